package projection

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/bluepoint/bluepoint/internal/stmtcache"
)

// DB is the read database: where read models live. On SQLite it is a file
// of its own, so event appends and projection writes do not queue behind
// one writer; on Postgres it is a schema (by default in the event store's
// database).
type DB struct {
	// Write applies events and rebuilds: one connection on SQLite.
	Write *sql.DB
	// Read serves queries.
	Read    *sql.DB
	Dialect Dialect

	// gens holds the generation each projection's last live batch found on
	// Postgres (name to int): the next batch reads its first rows from that
	// generation's tables in the round trip that reads the generation.
	gens sync.Map
	// liveSends counts the round trips of live batches on Postgres.
	liveSends atomic.Int64
}

// statementsKept is how many statements each SQLite connection keeps
// prepared: the projections' and queries' distinct SQL texts, with the
// multi-row writes of the batch sizes that come most.
const statementsKept = 512

// OpenSQLite opens (creating) the read database file. Its connections keep
// their statements prepared: compiling them again on every call was about a sixth
// of the projections' time.
func OpenSQLite(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("read database: %w", err)
	}
	dsn := func(extra ...string) string {
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(5000)")
		// NORMAL loses no commit when the process dies, only when the
		// machine does; then the last commits of a read model can be lost
		// after their messages were acknowledged (the embedded stream
		// engine itself syncs every 2 minutes), and `bluepoint replay`
		// rebuilds it from the event store, which syncs every commit.
		q.Add("_pragma", "synchronous(NORMAL)")
		for _, e := range extra {
			q.Add("_pragma", e)
		}
		return "file:" + path + "?" + q.Encode() + "&_txlock=immediate"
	}
	w, err := stmtcache.Open(dsn(), statementsKept)
	if err != nil {
		return nil, fmt.Errorf("read database: %w", err)
	}
	w.SetMaxOpenConns(1)
	r, err := stmtcache.Open(dsn("query_only(ON)"), statementsKept)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("read database: %w", err)
	}
	r.SetMaxOpenConns(4)
	return &DB{Write: w, Read: r, Dialect: SQLite}, nil
}

// Connections the read database on Postgres keeps open (and idle). In
// serve the writers are one per read model's consumer (three) and the
// token store's writes; a replay process holds at most four (its rebuild
// lock, its transaction and two index builders). A full pool makes a
// caller wait, and no caller waits while holding a second connection. The
// readers serve queries.
const (
	writeConns = 8
	readConns  = 16
)

// OpenPostgres opens the read database: the schema on the database at
// dbURL, created if the user may. Every connection switches to role (when
// set and not already the user), like the event store's.
func OpenPostgres(ctx context.Context, dbURL, schema, role string) (*DB, error) {
	// Projections find every row they change by key. The planner took
	// sequential scans of a read model's young tables (never analysed
	// yet) and kept them in its cached plans as the tables grew, so the
	// writers plan without them; queries keep the planner's own choice
	// (analytics scan whole tables on purpose).
	w, err := openPostgres(ctx, dbURL, schema, role, writeConns, map[string]string{"enable_seqscan": "off"})
	if err != nil {
		return nil, err
	}
	r, err := openPostgres(ctx, dbURL, schema, role, readConns, nil)
	if err != nil {
		w.Close()
		return nil, err
	}
	return &DB{Write: w, Read: r, Dialect: Postgres}, nil
}

func openPostgres(ctx context.Context, dbURL, schema, role string, conns int, params map[string]string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("read database: parse URL: %w", err)
	}
	cfg.RuntimeParams["search_path"] = schema
	maps.Copy(cfg.RuntimeParams, params)
	db := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(func(ctx context.Context, c *pgx.Conn) error {
		if role == "" {
			return nil
		}
		var current string
		if err := c.QueryRow(ctx, `SELECT current_user`).Scan(&current); err != nil {
			return err
		}
		if current == role {
			return nil
		}
		_, err := c.Exec(ctx, `SET ROLE `+pgx.Identifier{role}.Sanitize())
		return err
	}))
	// Consumers and queries hold connections in turn: database/sql's
	// default of two idle connections closed the rest after each use, and
	// each new one cost Postgres a backend start and its plans again
	// (hundreds a second under load).
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("read database: %w", err)
	}
	// A user that may create it does (a separate read database); the
	// application role cannot, and finds it made by `bluepoint migrate`.
	_, _ = db.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize())
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
		db.Close()
		return nil, fmt.Errorf("read database: %w", err)
	}
	if !exists {
		db.Close()
		return nil, fmt.Errorf("read database: schema %q does not exist: run `bluepoint migrate`", schema)
	}
	return db, nil
}

// scanWhole lets a writers' transaction on Postgres plan sequential scans
// again, for statements that read whole tables on purpose: the writers
// plan without them (see OpenPostgres).
func (db *DB) scanWhole(ctx context.Context, tx *sql.Tx) error {
	if db.Dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = on`); err != nil {
		return fmt.Errorf("read database: %w", err)
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error {
	if db.Read == db.Write {
		return db.Write.Close()
	}
	return errors.Join(db.Read.Close(), db.Write.Close())
}

// inTx runs fn in a write transaction.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("read database: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback() //nolint:errcheck // the first error is the one to report
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("read database: commit: %w", err)
	}
	return nil
}

// inBatchTx runs fn in a write transaction holding projection p's
// generation against a swap, and hands fn that generation with a Tx on its
// tables. With async, on Postgres, its commit does not wait for the WAL
// flush (SQLite's read database never waits for the disk): its caller must
// treat the commit as durable only once flushed has returned. first, when
// not nil, is read before fn runs; firstDone tells fn whether it was (on
// Postgres, when the generation is the one the last batch found).
func (db *DB) inBatchTx(ctx context.Context, p Projection, async bool, first *firstRead, fn func(t *Tx, gen int, firstDone bool) error) error {
	lock := lockShare
	if async {
		lock = lockShareAsync
	}
	if db.Dialect == Postgres {
		return db.inPgBatchTx(ctx, p.Name(), lock, first, func(t *Tx, gen int, firstDone bool) error {
			t.tables = tablesOf(p, gen)
			return fn(t, gen, firstDone)
		})
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		gen, _, err := db.current(ctx, tx, p.Name(), lock)
		if err != nil {
			return err
		}
		return fn(&Tx{tx: tx, dialect: db.Dialect, tables: tablesOf(p, gen)}, gen, false)
	})
}

// commitWithoutFlush makes a Postgres transaction's commit not wait for
// the WAL flush.
func commitWithoutFlush(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
		return fmt.Errorf("read database: %w", err)
	}
	return nil
}

// flushed returns once every transaction committed before the call is as
// durable as a synchronous commit makes it (with the server's own
// synchronous_commit, on unless an operator turned it off): flushed to
// disk, and on synchronous standbys where the server has them. It commits
// a transaction of its own that waits, writing no row: a transactional
// logical-decoding message (prefix "bluepoint.flush", empty), the smallest
// record that gives a transaction something to commit. Postgres flushes
// the WAL in order, so the earlier asynchronous commits are flushed with
// it.
func (db *DB) flushed(ctx context.Context) error {
	if _, err := db.Write.ExecContext(ctx, `SELECT pg_logical_emit_message(true, 'bluepoint.flush', '')`); err != nil {
		return fmt.Errorf("read database: flush: %w", err)
	}
	return nil
}

// inRebuildTx runs fn in a write transaction for a rebuild's batch: on
// Postgres, one with synchronous_commit off (a rebuild that dies with the
// server is run again from the start, so its commits need not wait for the
// WAL flush) and COPY for Tx.Insert, on the transaction's own connection.
func (db *DB) inRebuildTx(ctx context.Context, fn func(tx *sql.Tx, copyRows copyFunc) error) error {
	if db.Dialect != Postgres {
		return db.inTx(ctx, func(tx *sql.Tx) error { return fn(tx, nil) })
	}
	conn, err := db.Write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("read database: connection: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("read database: begin: %w", err)
	}
	copyRows := func(ctx context.Context, table string, cols []string, src pgx.CopyFromSource) error {
		// database/sql cannot COPY; the driver's own connection, which the
		// open transaction runs on, can.
		return conn.Raw(func(dc any) error {
			c, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("read database: COPY needs a pgx connection, not %T", dc)
			}
			_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, src)
			return err
		})
	}
	err = func() error {
		if err := commitWithoutFlush(ctx, tx); err != nil {
			return err
		}
		return fn(tx, copyRows)
	}()
	if err != nil {
		tx.Rollback() //nolint:errcheck // the first error is the one to report
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("read database: commit: %w", err)
	}
	return nil
}
