package projection

import (
	"context"
	"database/sql"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// ScanWhole is db.scanWhole, for tests.
func ScanWhole(ctx context.Context, db *DB, tx *sql.Tx) error { return db.scanWhole(ctx, tx) }

// InBatchTx is db.inBatchTx for a projection named name, for tests.
func InBatchTx(ctx context.Context, db *DB, name string, async bool, fn func(*Tx) error) error {
	return db.inBatchTx(ctx, named(name), async, nil, func(tx *Tx, _ int, _ bool) error { return fn(tx) })
}

// named is a projection with a name and nothing else.
type named string

func (n named) Name() string                                     { return string(n) }
func (named) Categories() []string                               { return nil }
func (named) Tables() []string                                   { return nil }
func (named) Create(Dialect) []string                            { return nil }
func (named) Apply(context.Context, *Tx, eventstore.Event) error { return nil }

// Flushed is db.flushed, for tests.
func Flushed(ctx context.Context, db *DB) error { return db.flushed(ctx) }

// NewTx wraps tx as the runner does, with tables as the logical names.
func NewTx(tx *sql.Tx, d Dialect, tables map[string]string) *Tx {
	return &Tx{tx: tx, dialect: d, tables: tables}
}

// Unnest is unnest, for tests.
var Unnest = unnest

// RegistryDDL is registryDDL, for tests.
const RegistryDDL = registryDDL

// AnyKeys is what Tx.QueryIn's IN (?...) becomes on Postgres.
const AnyKeys = anyKeys

// SlowFirst is slowFirst, for tests.
var SlowFirst = slowFirst

// LiveSends is how many round trips db's live batches on Postgres took.
func LiveSends(db *DB) int64 { return db.liveSends.Load() }

// SetRebuildBatch sets how many events r's rebuilds read per batch.
func SetRebuildBatch(r *Runner, n int) { r.rebuildBatch = n }
