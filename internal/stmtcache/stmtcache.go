// Package stmtcache opens SQLite databases whose connections keep the
// statements they run prepared, by their SQL text.
//
// database/sql prepares, runs and finalizes a statement on every Exec or
// Query that is not given a *sql.Stmt, and SQLite's parser and code
// generator then cost more than running the statement: the read models'
// writes spent most of their SQLite time compiling the same few statements
// again. A prepared *sql.Stmt does not fit a single-connection database
// whose transactions hold the only connection, and cannot take the SQL that
// projections build per batch; a cache below database/sql can.
package stmtcache

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"modernc.org/sqlite"
)

// MaxSQL is the longest SQL text kept prepared. Longer statements are
// multi-row writes whose compiling is paid for by their many rows, and whose
// programs are large enough that keeping them would cost real memory.
const MaxSQL = 4096

// Open opens the SQLite database at dsn (the syntax of the "sqlite" driver)
// with each connection keeping up to size statements prepared, the least
// recently used dropped first.
func Open(dsn string, size int) (*sql.DB, error) {
	if size <= 0 {
		return nil, errors.New("stmtcache: size must be positive")
	}
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("stmtcache: %w", err)
	}
	return sql.OpenDB(connector{Connector: base, size: size}), nil
}

type connector struct {
	driver.Connector
	size int
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return newConn(dc, c.size)
}

// base is what every connection of the sqlite driver implements; a
// connection that did not would lose behaviour behind the wrapper.
type base interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// conn is one connection and its statements. database/sql never uses a
// connection from two goroutines at once, so the cache needs no lock.
type conn struct {
	base
	stmts *simplelru.LRU[string, *stmt]
}

// stmt is a cached statement. busy: rows of it are open, so another use of
// the same SQL meanwhile prepares a statement of its own; evicted: it left
// the cache while busy, and is closed when its rows are.
type stmt struct {
	ctxStmt
	busy, evicted bool
}

// ctxStmt is what the sqlite driver's statements implement.
type ctxStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// counted, when set, is told of every statement prepared (+1) and closed
// (-1): tests use it.
var counted func(delta int)

func closeStmt(s driver.Stmt) {
	if counted != nil {
		counted(-1)
	}
	s.Close() //nolint:errcheck // finalizing a reset statement reports nothing useful
}

func newConn(dc driver.Conn, size int) (*conn, error) {
	b, ok := dc.(base)
	if !ok {
		dc.Close()
		return nil, fmt.Errorf("stmtcache: connection %T lacks the sqlite driver's interfaces", dc)
	}
	c := &conn{base: b}
	var err error
	c.stmts, err = simplelru.NewLRU(size, func(_ string, s *stmt) {
		if s.busy {
			s.evicted = true
			return
		}
		closeStmt(s)
	})
	if err != nil {
		dc.Close()
		return nil, fmt.Errorf("stmtcache: %w", err)
	}
	return c, nil
}

// Unwrap returns the driver's connection (the sqlite package's Limit and
// the like look for it).
func (c *conn) Unwrap() driver.Conn { return c.base }

// statement returns a prepared statement for query and the function to call
// when done with it.
func (c *conn) statement(ctx context.Context, query string) (ctxStmt, func(), error) {
	if s, ok := c.stmts.Get(query); ok && !s.busy {
		s.busy = true
		return s, func() { c.release(s) }, nil
	}
	prep, err := c.base.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if counted != nil {
		counted(+1)
	}
	ds, ok := prep.(ctxStmt)
	if !ok {
		closeStmt(prep)
		return nil, nil, fmt.Errorf("stmtcache: statement %T lacks the sqlite driver's interfaces", prep)
	}
	if len(query) > MaxSQL || c.stmts.Contains(query) {
		return ds, func() { closeStmt(ds) }, nil
	}
	s := &stmt{ctxStmt: ds, busy: true}
	c.stmts.Add(query, s)
	return s, func() { c.release(s) }, nil
}

func (c *conn) release(s *stmt) {
	s.busy = false
	if s.evicted {
		closeStmt(s)
	}
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, done, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	defer done()
	return s.ExecContext(ctx, args)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, done, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	r, err := s.QueryContext(ctx, args)
	if err != nil {
		done()
		return nil, err
	}
	tr, ok := r.(typedRows)
	if !ok {
		r.Close()
		done()
		return nil, fmt.Errorf("stmtcache: rows %T lack the sqlite driver's interfaces", r)
	}
	return &rows{typedRows: tr, done: done}, nil
}

func (c *conn) Close() error {
	c.stmts.Purge() // every statement is idle: database/sql closed their rows first
	return c.base.Close()
}

// typedRows is what the sqlite driver's rows implement.
type typedRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

var _ typedRows = (*rows)(nil)

// rows hands its statement back when closed.
type rows struct {
	typedRows
	done func()
}

func (r *rows) Close() error {
	err := r.typedRows.Close()
	if r.done != nil {
		r.done()
		r.done = nil
	}
	return err
}
