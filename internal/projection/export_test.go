package projection

import (
	"context"
	"database/sql"
)

// ScanWhole is db.scanWhole, for tests.
func ScanWhole(ctx context.Context, db *DB, tx *sql.Tx) error { return db.scanWhole(ctx, tx) }

// InAsyncTx is db.inAsyncTx, for tests.
func InAsyncTx(ctx context.Context, db *DB, fn func(*sql.Tx) error) error {
	return db.inAsyncTx(ctx, fn)
}

// Flushed is db.flushed, for tests.
func Flushed(ctx context.Context, db *DB) error { return db.flushed(ctx) }

// NewTx wraps tx as the runner does, with tables as the logical names.
func NewTx(tx *sql.Tx, d Dialect, tables map[string]string) *Tx {
	return &Tx{tx: tx, dialect: d, tables: tables}
}

// Unnest is unnest, for tests.
var Unnest = unnest
