// Package sqlite is the embedded event store driver: one SQLite file in WAL
// mode, one writer connection fed by a group-commit loop, and a pool of
// readers.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Config configures the SQLite store.
type Config struct {
	// Path is the database file. Required.
	Path string
	// Synchronous is SQLite's synchronous pragma: "FULL" (default) makes an
	// acknowledged append survive power loss; "NORMAL" survives a process
	// crash only, and is faster.
	Synchronous string
	// ReadConns is the size of the reader pool. Default 4.
	ReadConns int
	// MaxBatch caps how many queued writes share one transaction. Default 256.
	MaxBatch int
	// BusyTimeout is how long a connection waits for a lock held by another
	// process (for example `bluepoint admin` while a server runs). Default 5s.
	BusyTimeout time.Duration
	// BeforeCommit, when set, runs in the writer just before each commit. It
	// exists for tests that need transactions held open; leave it nil.
	BeforeCommit func(ctx context.Context)
}

// WithDefaults returns the config with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Synchronous == "" {
		c.Synchronous = "FULL"
	}
	if c.ReadConns <= 0 {
		c.ReadConns = 4
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 256
	}
	if c.BusyTimeout <= 0 {
		c.BusyTimeout = 5 * time.Second
	}
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.Path == "" {
		return errors.New("sqlite: path is required")
	}
	switch c.Synchronous {
	case "FULL", "NORMAL":
	default:
		return fmt.Errorf("sqlite: synchronous %q: use FULL or NORMAL", c.Synchronous)
	}
	return nil
}

// Store is the SQLite event store. It is safe for concurrent use.
type Store struct {
	cfg     Config
	writeDB *sql.DB // exactly one connection: SQLite has one writer anyway
	stmts   prepared
	readDB  pdb
	writes  chan *writeReq
	done    chan struct{}
	wg      sync.WaitGroup
	closeMu sync.RWMutex
	closed  bool
	// synchronous is the writer connection's synchronous mode ("" when
	// unknown); only the writer goroutine touches it.
	synchronous string
	// dataVersion is the writer connection's last PRAGMA data_version;
	// only the writer goroutine touches it.
	dataVersion int64
	eventstore.Notifier
	// WriteWatch counts the commits of other processes the writer notices.
	eventstore.WriteWatch
	eventstore.GroupCounter
}

var (
	_ eventstore.Store          = (*Store)(nil)
	_ eventstore.OtherWriters   = (*Store)(nil)
	_ eventstore.GroupCommitter = (*Store)(nil)
)

// Open opens (creating if needed) the database file, applies migrations and
// starts the writer.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create directory: %w", err)
	}
	writeDB, err := sql.Open("sqlite", dsn(cfg, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	writeDB.SetMaxOpenConns(1)
	writeDB.SetMaxIdleConns(1)
	writeDB.SetConnMaxLifetime(0)
	writeDB.SetConnMaxIdleTime(0)
	if err := migrate(ctx, writeDB); err != nil {
		writeDB.Close()
		return nil, err
	}
	stmts, err := prepare(ctx, writeDB, writerStatements)
	if err != nil {
		writeDB.Close()
		return nil, err
	}
	readDB, err := sql.Open("sqlite", dsn(cfg, true))
	if err != nil {
		stmts.Close()
		writeDB.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	readDB.SetMaxOpenConns(cfg.ReadConns)
	readDB.SetMaxIdleConns(cfg.ReadConns)
	readStmts, err := prepare(ctx, readDB, readerStatements)
	if err != nil {
		return nil, errors.Join(err, readDB.Close(), stmts.Close(), writeDB.Close())
	}
	s := &Store{
		cfg:     cfg,
		writeDB: writeDB,
		stmts:   stmts,
		readDB:  pdb{DB: readDB, stmts: readStmts},
		writes:  make(chan *writeReq, cfg.MaxBatch),
		done:    make(chan struct{}),
		// The connection opened with the configured mode.
		synchronous: cfg.Synchronous,
	}
	// From here on, other processes' commits are noticed (at the writer's
	// next transaction); what was read before is not taken as current.
	if err := writeDB.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&s.dataVersion); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: data version: %w", err), readDB.Close(), stmts.Close(), writeDB.Close())
	}
	s.Watching(true)
	s.wg.Add(1)
	go s.writeLoop()
	return s, nil
}

func dsn(cfg Config, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous("+cfg.Synchronous+")")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		// BEGIN IMMEDIATE takes the write lock up front, so a transaction never
		// fails half-way on a lock upgrade when another process writes too.
		q.Set("_txlock", "immediate")
		// Each write of a group commit runs in a savepoint, whose journal of
		// the pages it changed SQLite spills to a temporary file past 64 KiB:
		// two write calls per page, a sixth of the writer's time under load.
		// The writer only appends, so its temporary data stays small.
		q.Add("_pragma", "temp_store(MEMORY)")
	}
	return "file:" + cfg.Path + "?" + q.Encode()
}

func migrate(ctx context.Context, db *sql.DB) error {
	p, err := goose.NewProvider(goose.DialectSQLite3, db, mustSub(migrations, "migrations"))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Ping checks that both the writer and the readers answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.readDB.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close stops the writer after the queued writes and closes the database.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.closeMu.Unlock()
	s.wg.Wait()
	return errors.Join(s.readDB.Close(), s.stmts.Close(), s.writeDB.Close())
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
