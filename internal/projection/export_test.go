package projection

import (
	"context"
	"database/sql"
)

// ScanWhole is db.scanWhole, for tests.
func ScanWhole(ctx context.Context, db *DB, tx *sql.Tx) error { return db.scanWhole(ctx, tx) }

// InBatchTx is db.inBatchTx, for tests.
func InBatchTx(ctx context.Context, db *DB, name string, async bool, fn func(*sql.Tx) error) error {
	return db.inBatchTx(ctx, name, async, func(tx *sql.Tx, _ int) error { return fn(tx) })
}

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
