package projection

import (
	"context"
	"database/sql"
)

// ScanWhole is db.scanWhole, for tests.
func ScanWhole(ctx context.Context, db *DB, tx *sql.Tx) error { return db.scanWhole(ctx, tx) }
