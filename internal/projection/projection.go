// Package projection runs read models: each projection consumes its streams
// through a durable consumer and applies every event in one SQL transaction
// that also records how far it got, so a redelivered event has no second
// effect.
//
// How far a projection got is kept per event-store stream (the last applied
// stream version), not per message: that makes "already applied" exact for
// a redelivery, and for the live consumer meeting events a rebuild already
// applied.
//
// A projection's tables come in generations. Readers query views named after
// the logical tables; a rebuild fills generation n+1 from the event store's
// global log while reads are served from generation n, then swaps the views
// in one transaction.
package projection

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Projection is one read model.
type Projection interface {
	// Name identifies the projection ([a-z][a-z0-9_]*), in table names and
	// in its consumer's name.
	Name() string
	// Categories are the event-store stream categories it reads.
	Categories() []string
	// Tables are its logical tables; readers query views of these names.
	Tables() []string
	// Create returns the statements creating its tables, with every table
	// written {name} (a logical name in braces), and their indexes.
	Create(d Dialect) []string
	// Apply applies one event. It runs in the transaction that records the
	// event as applied. Events of categories it does not read never come.
	Apply(ctx context.Context, tx *Tx, e eventstore.Event) error
}

// Viewer is implemented by a projection whose readers see a table through
// other columns than all of its own: View returns the select list of the
// view of a logical table, and false to keep every column.
type Viewer interface {
	View(d Dialect, table string) (selectList string, ok bool)
}

// viewSelect is the select list of the view of a projection's table.
func viewSelect(p Projection, d Dialect, table string) string {
	if v, ok := p.(Viewer); ok {
		if sel, ok := v.View(d, table); ok {
			return sel
		}
	}
	return "*"
}

// Dialect is the read database's SQL dialect.
type Dialect int

// The dialects.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

var tableRef = regexp.MustCompile(`\{([a-z][a-z0-9_]*)\}`)

// expand replaces {table} with its physical name and, on Postgres, ? with
// $1, $2, ...: projections write one SQL text for both dialects where they
// can.
func expand(d Dialect, tables map[string]string, query string) (string, error) {
	var missing string
	query = tableRef.ReplaceAllStringFunc(query, func(m string) string {
		name := m[1 : len(m)-1]
		phys, ok := tables[name]
		if !ok {
			missing = name
			return m
		}
		return phys
	})
	if missing != "" {
		return "", fmt.Errorf("projection: unknown table {%s}", missing)
	}
	if d != Postgres {
		return query, nil
	}
	return Rebind(query), nil
}

// Rebind turns ? placeholders into $1, $2, ... (for Postgres), leaving
// quoted text alone.
func Rebind(query string) string {
	var b strings.Builder
	n, quoted := 0, false
	for _, r := range query {
		switch {
		case r == '\'':
			quoted = !quoted
			b.WriteRune(r)
		case r == '?' && !quoted:
			n++
			b.WriteString("$" + strconv.Itoa(n))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Tx is the transaction a projection applies an event in. Its statements
// take {table} references and ? placeholders.
//
// A live batch on Postgres runs on the driver's own connection (pg): its
// multi-row writes (ExecValues, Insert) are queued and sent with the
// statement that comes next, a read or the commit, so that a batch costs a
// round trip per read and one for its writes and commit together. A write
// that fails then reports its error there, naming the failed statement;
// the batch fails whole either way.
type Tx struct {
	tx      *sql.Tx
	pg      *pgTx
	dialect Dialect
	tables  map[string]string
	// copyRows, when set, loads rows into a physical table with COPY: a
	// rebuild's transaction on Postgres, whose tables are new and unseen.
	copyRows copyFunc
	// alone: a rebuild's transaction, the only writer of its tables.
	alone bool
}

// Alone reports whether the transaction is the only writer of its tables:
// a rebuild's, whose generation no other runner writes until the swap (and
// the swap's catching up holds the generation against them). A projection
// that locks the rows it reads against concurrent batches of other
// processes can read them plainly then.
func (t *Tx) Alone() bool { return t.alone }

// Rows is a row of a result, as a scan callback of Tx sees it: database/sql's
// in a rebuild and on SQLite, pgx's in a live batch on Postgres, which
// converts less between types. A column scans into the Go type of its SQL
// type (TEXT into string, BIGINT and INTEGER into an integer, BOOLEAN into
// bool), as every read model does.
type Rows interface {
	Scan(dest ...any) error
}

// copyFunc loads the rows of src, a value per column of cols, into a
// physical table.
type copyFunc func(ctx context.Context, table string, cols []string, src pgx.CopyFromSource) error

// Dialect tells which SQL the read database speaks.
func (t *Tx) Dialect() Dialect { return t.dialect }

// Exec runs a statement.
func (t *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q, err := expand(t.dialect, t.tables, query)
	if err != nil {
		return nil, err
	}
	if t.pg != nil {
		return t.pg.exec(ctx, q, args)
	}
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("projection: %w", err)
	}
	return res, nil
}

// Get runs a query and scans its first row into dest; sql.ErrNoRows when
// there is none.
func (t *Tx) Get(ctx context.Context, query string, args []any, dest ...any) error {
	q, err := expand(t.dialect, t.tables, query)
	if err != nil {
		return err
	}
	if t.pg != nil {
		return t.pg.get(ctx, q, args, dest)
	}
	return t.tx.QueryRowContext(ctx, q, args...).Scan(dest...)
}
