// Package postgres is the event store driver for production and scale-out:
// any number of Bluepoint processes append to one Postgres concurrently.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// DefaultSchema and DefaultAppRole are the defaults of Config and MigrateParams.
const (
	DefaultSchema  = "bluepoint"
	DefaultAppRole = "bluepoint_app"
)

// Config configures the Postgres store.
type Config struct {
	// URL is a postgres:// connection URL. Required.
	URL string
	// Schema holds Bluepoint's tables. Default "bluepoint".
	Schema string
	// AppRole is the role every connection runs as. When URL logs in as
	// another user (the owner), each connection switches to AppRole, so the
	// service never holds more privilege than appending needs. Default
	// "bluepoint_app".
	AppRole string
	// MaxConns caps the pool. Default 20.
	MaxConns int32
	// Committers is how many appends commit at once; appends that arrive
	// while all of them are busy commit together, in one transaction (see
	// group.go). Default 4; negative: each append commits on its own, on
	// its caller's goroutine.
	Committers int
	// BeforeCommit, when set, runs inside each append just before it commits.
	// It exists for tests that need transactions held open; leave it nil.
	BeforeCommit func(ctx context.Context)

	// tracer, set by tests, sees every statement of the store's pool.
	tracer pgx.QueryTracer
}

func (c Config) withDefaults() Config {
	if c.Schema == "" {
		c.Schema = DefaultSchema
	}
	if c.AppRole == "" {
		c.AppRole = DefaultAppRole
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 20
	}
	if c.Committers == 0 {
		c.Committers = DefaultCommitters
	}
	return c
}

// DefaultCommitters is Config.Committers' default: two, enough to overlap
// one group's commit with the next group's statements, and to keep appends
// going while one group waits for a lock. More committers split the same
// appends into smaller groups: more transactions, and more backends that
// want a CPU at once. At 1,000 sign-ups a second on 2 cores shared with
// Postgres, the median p99 of commit to visible was 68 ms with four and
// 39 ms with two (docs/benchmarks.md).
const DefaultCommitters = 2

// Store is the Postgres event store. It is safe for concurrent use.
type Store struct {
	cfg     Config
	pool    *pgxpool.Pool
	channel string
	// instance is the payload of this store's notifications, by which
	// its listener knows its own: their subscribers were woken directly.
	instance string
	wake     chan struct{} // asks the notifier to tell other processes
	// queue hands appends to the committers; nil when each append commits
	// on its own. closed refuses appends once Close began.
	queue  chan *groupReq
	closed chan struct{}
	// waiting counts the appends not yet taken by a committer.
	waiting   atomic.Int64
	cancel    context.CancelFunc
	closeOnce sync.Once
	wg        sync.WaitGroup
	eventstore.GroupCounter
	eventstore.Notifier
	// WriteWatch counts the other processes' commits its listener hears of.
	eventstore.WriteWatch
}

var (
	_ eventstore.Store          = (*Store)(nil)
	_ eventstore.OtherWriters   = (*Store)(nil)
	_ eventstore.GroupCommitter = (*Store)(nil)
)

// Open connects, migrates the schema when the connected user owns it and it
// is behind, and switches every connection to the application role.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if cfg.URL == "" {
		return nil, errors.New("postgres: URL is required")
	}
	if err := migrateIfBehind(ctx, cfg); err != nil {
		return nil, err
	}
	pc, err := poolConfig(cfg.URL, cfg.Schema)
	if err != nil {
		return nil, err
	}
	pc.MaxConns = cfg.MaxConns
	if cfg.tracer != nil {
		pc.ConnConfig.Tracer = cfg.tracer
	}
	// Every statement of the store finds its rows by key through an index.
	// The planner still took sequential scans while the tables were young
	// (an estimate of ten pages until autovacuum first analyses a table,
	// up to a minute later) and kept them in the cached plans of prepared
	// statements as the tables grew: group reads of a few keys scanned
	// thousands of rows. Without sequential scans the plans are the ones
	// the tables will need, from the first statement.
	pc.ConnConfig.RuntimeParams["enable_seqscan"] = "off"
	// Likewise bitmap scans: on a log never analysed, the planner expects a
	// few dozen rows after a position and gathers them in a bitmap, which
	// loses the index's order, so it fetched and sorted every later event
	// (100,000 for the first batch of a rebuild after a bulk load) to
	// return the first few thousand. The store's reads all want rows in an
	// index's order, or a handful by key.
	pc.ConnConfig.RuntimeParams["enable_bitmapscan"] = "off"
	role := pgx.Identifier{cfg.AppRole}.Sanitize()
	pc.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		var current string
		if err := conn.QueryRow(ctx, `SELECT current_user`).Scan(&current); err != nil {
			return fmt.Errorf("postgres: current user: %w", err)
		}
		if current == cfg.AppRole {
			return nil
		}
		if _, err := conn.Exec(ctx, `SET ROLE `+role); err != nil {
			return fmt.Errorf("postgres: switch to role %s (run `bluepoint migrate` as the owner first): %w", cfg.AppRole, err)
		}
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	bg, cancel := context.WithCancel(context.Background())
	s := &Store{cfg: cfg, pool: pool, channel: "bluepoint_events_" + cfg.Schema, instance: uuid.NewString(),
		wake: make(chan struct{}, 1), closed: make(chan struct{}), cancel: cancel}
	s.wg.Add(2)
	go s.listen(bg)
	go s.notifyLoop(bg)
	if cfg.Committers > 0 {
		s.queue = make(chan *groupReq)
		for range cfg.Committers {
			s.wg.Add(1)
			go s.committer(bg)
		}
	}
	return s, nil
}

func migrateIfBehind(ctx context.Context, cfg Config) error {
	pc, err := poolConfig(cfg.URL, cfg.Schema)
	if err != nil {
		return err
	}
	pc.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	pending, err := hasPending(ctx, pool)
	pool.Close()
	if err != nil || pending {
		if merr := Migrate(ctx, MigrateParams{URL: cfg.URL, Schema: cfg.Schema, AppRole: cfg.AppRole}); merr != nil {
			return fmt.Errorf("postgres: the schema %q is not up to date and migrating it failed; run `bluepoint migrate` as its owner: %w", cfg.Schema, merr)
		}
	}
	return nil
}

func poolConfig(url, schema string) (*pgxpool.Config, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse URL: %w", err)
	}
	pc.ConnConfig.RuntimeParams["search_path"] = schema
	return pc, nil
}

// Ping implements eventstore.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close implements eventstore.Store.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	s.cancel()
	s.wg.Wait()
	s.pool.Close()
	return nil
}

// Role returns the role the store's connections run as.
func (s *Store) Role(ctx context.Context) (string, error) {
	var role string
	if err := s.pool.QueryRow(ctx, `SELECT current_user`).Scan(&role); err != nil {
		return "", fmt.Errorf("postgres: current role: %w", err)
	}
	return role, nil
}

// Pool exposes the connection pool to code that shares the database with
// the store (read models, benchmarks).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// listen relays other processes' commit notifications to local subscribers.
func (s *Store) listen(ctx context.Context) {
	defer s.wg.Done()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		_ = err // a lost connection is retried; local appends still signal directly
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), `UNLISTEN *`) //nolint:errcheck // best effort before the conn returns to the pool
	s.Watching(true)
	defer s.Watching(false)
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload != s.instance {
			s.Heard()
			s.Broadcast()
		}
	}
}

// notifyLoop tells other processes that events committed. It runs outside
// the append transactions on purpose: NOTIFY inside a transaction takes a
// global lock at commit and would serialise every append. Requests that
// arrive while one NOTIFY is in flight coalesce into the next.
func (s *Store) notifyLoop(ctx context.Context) {
	defer s.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		// NOTIFY assigns a transaction id, so its commit would wait for a WAL
		// flush of its own: a second fsync per append. A wake-up need not be
		// durable, so this one transaction commits asynchronously.
		_, _ = s.pool.Exec(ctx, `SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)`, s.channel, s.instance)
	}
}

func (s *Store) committed() {
	s.Broadcast()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
