package bench

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bluepoint/bluepoint/internal/app"
	"github.com/bluepoint/bluepoint/internal/config"
)

// rawStore is the baseline of workload 1: the rows a command writes
// (its events, one outbox row each, the idempotency record) inserted with
// plain SQL in one transaction, on the same engine with the same
// durability, with no HTTP and none of Bluepoint's code. The schema is
// Bluepoint's (migrated by it), so the rows and indexes are the same.
type rawStore struct {
	perKind map[string]int
	mix     []string
	write   func(ctx context.Context, streamID string, firstVersion int64, events int) error
	close   func()
	mu      sync.Mutex
	clients map[int]*rawClient
}

// rawClient is one raw writer's stream and place in the mix.
type rawClient struct {
	stream  string
	version int64
	next    int
}

// rawData is an event body of the size of a typical Bluepoint event.
const rawData = `{"account_id":"0190b4a2-6f1e-7cc0-9a4e-2f9d1e0b7a11","points":10,"reason":"interaction","tx_id":"0190b4a2-6f1e-7cc0-9a4e-2f9d1e0b7a12","balance":120,"credited_at":"2026-01-01T00:00:00Z"}`

// rawMeta is metadata of the size of Bluepoint's (trace and causation).
const rawMeta = `{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","causation_id":"0190b4a2-6f1e-7cc0-9a4e-2f9d1e0b7a13","actor":"0190b4a2-6f1e-7cc0-9a4e-2f9d1e0b7a14"}`

// op writes client i's next command of the mix.
func (s *rawStore) op(ctx context.Context, i int) (string, time.Duration, error) {
	s.mu.Lock()
	c, ok := s.clients[i]
	if !ok {
		c = &rawClient{stream: "account-raw" + randomHex(6)}
		s.clients[i] = c
	}
	s.mu.Unlock()
	kind := s.mix[c.next%len(s.mix)]
	c.next++
	n := s.perKind[kind]
	began := time.Now()
	err := s.write(ctx, c.stream, c.version+1, n)
	if err == nil {
		c.version += int64(n)
	}
	return kind, time.Since(began), err
}

// newRaw prepares the baseline's own store, migrated by Bluepoint.
func (r *runner) newRaw(ctx context.Context, perKind map[string]int) (*rawStore, error) {
	cfg, _, err := r.newStore(ctx, "raw", false)
	if err != nil {
		return nil, err
	}
	if cfg.UsesSQLite() {
		if _, err := app.Migrate(ctx, app.MigrateParams{Config: cfg}); err != nil {
			return nil, err
		}
	}
	s := &rawStore{perKind: perKind, mix: r.cfg.Mix.sequence(), clients: map[int]*rawClient{}}
	if cfg.UsesSQLite() {
		return s, s.openSQLite(ctx, cfg)
	}
	return s, s.openPostgres(ctx, cfg)
}

// openSQLite writes with database/sql on one connection (SQLite has one
// writer), WAL and synchronous=FULL like serve's default, one INSERT per
// row in a BEGIN IMMEDIATE transaction. Its statements are prepared once,
// as serve's are: compiling them anew for every row took a sixth of the
// baseline's samples in a profile, a handicap that flattered the ratio.
func (s *rawStore) openSQLite(ctx context.Context, cfg config.Config) error {
	db, err := sql.Open("sqlite", "file:"+cfg.SQLitePath()+
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(ON)&_txlock=immediate")
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	var stmts []*sql.Stmt
	s.close = func() {
		for _, st := range stmts {
			st.Close()
		}
		db.Close()
	}
	// err keeps the first failure to prepare; the rest are then skipped.
	prepare := func(what, q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		st, perr := db.PrepareContext(ctx, q)
		if perr != nil {
			err = fmt.Errorf("raw prepare %s: %w", what, perr)
			return nil
		}
		stmts = append(stmts, st)
		return st
	}
	insertEvent := prepare("event insert", `INSERT INTO events (event_id, stream_id, stream_version, category, type, schema_version, data, metadata, recorded_at)
		VALUES (?, ?, ?, 'account', 'PointsCredited', 1, ?, ?, ?)`)
	insertOutbox := prepare("outbox insert", `INSERT INTO outbox (global_position) VALUES (?)`)
	insertKey := prepare("idempotency insert", `INSERT INTO idempotency (key, fingerprint, status, response, created_at) VALUES (?, 'f', 201, '{"ok":true}', ?)`)
	if err != nil {
		s.close()
		return err
	}
	s.write = func(ctx context.Context, stream string, first int64, n int) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
		event, outbox, key := tx.StmtContext(ctx, insertEvent), tx.StmtContext(ctx, insertOutbox), tx.StmtContext(ctx, insertKey)
		now := time.Now().UnixMicro()
		for j := range n {
			res, err := event.ExecContext(ctx, uuid.Must(uuid.NewV7()).String(), stream, first+int64(j), rawData, rawMeta, now)
			if err != nil {
				return fmt.Errorf("raw insert event: %w", err)
			}
			pos, err := res.LastInsertId()
			if err != nil {
				return err
			}
			if _, err := outbox.ExecContext(ctx, pos); err != nil {
				return fmt.Errorf("raw insert outbox: %w", err)
			}
		}
		if _, err := key.ExecContext(ctx, randomHex(12), now); err != nil {
			return fmt.Errorf("raw insert idempotency: %w", err)
		}
		return tx.Commit()
	}
	return nil
}

// openPostgres writes with a plain pgx pool of the store's size (20): one
// multi-row INSERT for the events, one for the outbox, one for the
// idempotency record, in one transaction.
func (s *rawStore) openPostgres(ctx context.Context, cfg config.Config) error {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	pc.ConnConfig.RuntimeParams["search_path"] = cfg.DatabaseSchema
	pc.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return err
	}
	s.close = pool.Close
	s.write = func(ctx context.Context, stream string, first int64, n int) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			now := time.Now()
			values := make([]string, 0, n)
			args := make([]any, 0, 6*n)
			for j := range n {
				k := len(args)
				values = append(values, fmt.Sprintf("($%d, $%d, $%d, 'account', 'PointsCredited', 1, $%d, $%d, $%d)", k+1, k+2, k+3, k+4, k+5, k+6))
				args = append(args, uuid.Must(uuid.NewV7()), stream, first+int64(j), rawData, rawMeta, now)
			}
			if n > 0 {
				rows, err := tx.Query(ctx, `INSERT INTO events (event_id, stream_id, stream_version, category, type, schema_version, data, metadata, recorded_at)
					VALUES `+strings.Join(values, ", ")+` RETURNING global_position`, args...)
				if err != nil {
					return fmt.Errorf("raw insert events: %w", err)
				}
				positions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
				if err != nil {
					return fmt.Errorf("raw insert events: %w", err)
				}
				if _, err := tx.Exec(ctx, `INSERT INTO outbox (global_position) SELECT unnest($1::bigint[])`, positions); err != nil {
					return fmt.Errorf("raw insert outbox: %w", err)
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO idempotency (key, fingerprint, status, response, created_at) VALUES ($1, 'f', 201, '{"ok":true}', $2)`,
				randomHex(12), now); err != nil {
				return fmt.Errorf("raw insert idempotency: %w", err)
			}
			return nil
		})
	}
	return nil
}

// countEvents counts the events in cfg's store, read directly (a reader
// beside a running server: WAL lets SQLite readers in).
func countEvents(ctx context.Context, cfg config.Config) (int64, error) {
	var n int64
	if cfg.UsesSQLite() {
		db, err := sql.Open("sqlite", "file:"+cfg.SQLitePath()+"?mode=ro&_pragma=busy_timeout(5000)")
		if err != nil {
			return 0, err
		}
		defer db.Close()
		return n, db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n)
	}
	conn, err := pgx.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	return n, conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{cfg.DatabaseSchema, "events"}.Sanitize()).Scan(&n)
}
