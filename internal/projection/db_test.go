package projection_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// A read model's tables start empty and grow, unanalysed, while prepared
// statements keep their first plans: the writers' key lookups must use
// their indexes from the start, and queries keep sequential scans for
// what reads a whole table.
func TestPostgresWritersLookUpByIndex(t *testing.T) {
	url := testenv.Postgres(t)
	ctx := context.Background()
	schema := storetest.NewSchema(t, url)
	if err := postgres.Migrate(ctx, postgres.MigrateParams{URL: url, Schema: schema}); err != nil {
		t.Fatal(err)
	}
	db, err := projection.OpenPostgres(ctx, url, postgres.ReadSchema(schema), postgres.DefaultAppRole)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE young (id TEXT PRIMARY KEY, n INTEGER NOT NULL)`,
		`INSERT INTO young SELECT 'k' || i, i FROM generate_series(1, 500) i`,
	} {
		if _, err := db.Write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// A batch's worth of keys, as a consumer looks up.
	keys := make([]any, 50)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i+1)
	}
	lookup := genericPlan(t, db.Write, nil, `SELECT id, n FROM young WHERE id IN (`+projection.Rebind(projection.Placeholders(len(keys)))+`)`, keys...)
	if strings.Contains(lookup, "Seq Scan") {
		t.Errorf("a writer's key lookup:\n%s\nwant an index scan", lookup)
	}
	whole := genericPlan(t, db.Read, nil, `SELECT count(*) FROM young`)
	if !strings.Contains(whole, "Seq Scan") {
		t.Errorf("a query over the whole table:\n%s\nwant a sequential scan", whole)
	}
	// A writer's statement over the whole table (a status, a comparison
	// of generations) plans as a query does.
	status := genericPlan(t, db.Write, func(tx *sql.Tx) error { return projection.ScanWhole(ctx, db, tx) }, `SELECT count(*) FROM young`)
	if !strings.Contains(status, "Seq Scan") {
		t.Errorf("a writer's statement over the whole table:\n%s\nwant a sequential scan", status)
	}
}

// genericPlan is the plan a prepared statement of q comes to keep, in a
// transaction that first runs before (when not nil).
func genericPlan(t *testing.T, db *sql.DB, before func(*sql.Tx) error, q string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	if _, err := tx.ExecContext(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	if before != nil {
		if err := before(tx); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := tx.QueryContext(ctx, "EXPLAIN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
