package projection_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// openReadDB opens a read database on the test Postgres, in a fresh
// schema migrated as serve's would be.
func openReadDB(t *testing.T, ctx context.Context) *projection.DB {
	t.Helper()
	url := testenv.Postgres(t)
	schema := storetest.NewSchema(t, url)
	if err := postgres.Migrate(ctx, postgres.MigrateParams{URL: url, Schema: schema}); err != nil {
		t.Fatal(err)
	}
	db, err := projection.OpenPostgres(ctx, url, postgres.ReadSchema(schema), postgres.DefaultAppRole)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A read model's tables start empty and grow, unanalysed, while prepared
// statements keep their first plans: the writers' key lookups must use
// their indexes from the start, and queries keep sequential scans for
// what reads a whole table.
func TestPostgresWritersLookUpByIndex(t *testing.T) {
	ctx := context.Background()
	db := openReadDB(t, ctx)
	for _, q := range []string{
		`CREATE TABLE young (id TEXT PRIMARY KEY, n INTEGER NOT NULL)`,
		`INSERT INTO young SELECT 'k' || i, i FROM generate_series(1, 500) i`,
	} {
		if _, err := db.Write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// A batch's worth of keys, as a consumer looks up (Tx.QueryIn).
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i+1)
	}
	lookup := genericPlan(t, db.Write, nil, projection.Rebind(`SELECT id, n FROM young WHERE id `+projection.AnyKeys), keys)
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

// Rows sent as arrays are read a row at a time from the arrays (a
// ProjectSet), not copied first into a tuple store per column (a Function
// Scan), which cost a wide table's insert most of its time; and they arrive
// as they were, NULLs included.
func TestPostgresValuesWalkTheArraysInStep(t *testing.T) {
	ctx := context.Background()
	db := openReadDB(t, ctx)
	if _, err := db.Write.ExecContext(ctx, `CREATE TABLE wide (k TEXT PRIMARY KEY, n BIGINT, b BOOLEAN, f FLOAT8, s TEXT)`); err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"a", int64(1), true, 0.5, "x"},
		{"b", nil, false, 1.5, (*string)(nil)},
		{"c", int64(3), true, 2.5, "z"},
	}
	from, args, ok := projection.Unnest(rows)
	if !ok {
		t.Fatal("typed rows: no arrays")
	}
	insert := projection.Rebind(`INSERT INTO wide (k, n, b, f, s) ` + from)
	plan := genericPlan(t, db.Write, nil, insert, args...)
	if strings.Contains(plan, "Function Scan") || !strings.Contains(plan, "ProjectSet") {
		t.Errorf("insert of arrays:\n%s\nwant a ProjectSet and no Function Scan", plan)
	}
	if _, err := db.Write.ExecContext(ctx, insert, args...); err != nil {
		t.Fatal(err)
	}
	got, err := db.Write.QueryContext(ctx, `SELECT k, coalesce(n::text, 'NULL'), b, f, coalesce(s, 'NULL') FROM wide ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	var lines []string
	for got.Next() {
		var k, n, s string
		var b bool
		var f float64
		if err := got.Scan(&k, &n, &b, &f, &s); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("%s %s %t %g %s", k, n, b, f, s))
	}
	if err := got.Err(); err != nil {
		t.Fatal(err)
	}
	if want := "a 1 true 0.5 x|b NULL false 1.5 NULL|c 3 true 2.5 z"; strings.Join(lines, "|") != want {
		t.Errorf("rows = %q, want %q", strings.Join(lines, "|"), want)
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

// openAppliedDB is a read database holding a projection "applied" at
// generation 1, whose one table, applied, has an integer key.
func openAppliedDB(t *testing.T, ctx context.Context) *projection.DB {
	t.Helper()
	db := openReadDB(t, ctx)
	for _, q := range []string{
		`CREATE TABLE applied (id INTEGER PRIMARY KEY)`,
		projection.RegistryDDL,
		`INSERT INTO projections VALUES ('applied', 1, 'h')`,
	} {
		if _, err := db.Write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// A live batch commits without waiting for the disk, and flushed returns
// only once the WAL holds that commit.
func TestPostgresAsyncCommitIsFlushedBeforeAck(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := openAppliedDB(t, ctx)
	for i := range 5 {
		var mode string
		err := projection.InBatchTx(ctx, db, "applied", true, func(tx *projection.Tx) error {
			if err := tx.Get(ctx, `SHOW synchronous_commit`, nil, &mode); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO applied VALUES (?)`, i)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if mode != "off" {
			t.Fatalf("a live batch commits with synchronous_commit %s, want off", mode)
		}
		// The commit record ends before this point of the WAL.
		var committed string
		if err := db.Read.QueryRowContext(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&committed); err != nil {
			t.Fatal(err)
		}
		if err := projection.Flushed(ctx, db); err != nil {
			t.Fatal(err)
		}
		var onDisk bool
		if err := db.Read.QueryRowContext(ctx, `SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn`, committed).Scan(&onDisk); err != nil {
			t.Fatal(err)
		}
		if !onDisk {
			t.Fatalf("batch %d: flushed returned before the WAL reached its commit (%s)", i, committed)
		}
	}
	var sync string
	if err := db.Write.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if sync != "on" {
		t.Fatalf("the writers' other transactions commit with synchronous_commit %s, want on", sync)
	}
	// A batch that is not live (Runner.ApplyBatch) waits for its flush.
	err := projection.InBatchTx(ctx, db, "applied", false, func(tx *projection.Tx) error {
		return tx.Get(ctx, `SHOW synchronous_commit`, nil, &sync)
	})
	if err != nil {
		t.Fatal(err)
	}
	if sync != "on" {
		t.Fatalf("a batch that is not live commits with synchronous_commit %s, want on", sync)
	}
}

// A live batch on Postgres sends its writes with the statement after them:
// a read in the batch sees them, and a write that fails fails the batch
// at that statement, or at the commit, with nothing of the batch kept.
func TestPostgresLiveBatchSendsWritesWithTheNextStatement(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := openAppliedDB(t, ctx)
	count := func() (n int) {
		t.Helper()
		if err := db.Read.QueryRowContext(ctx, `SELECT count(*) FROM applied`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert := `INSERT INTO applied (id)`
	err := projection.InBatchTx(ctx, db, "applied", true, func(tx *projection.Tx) error {
		if err := tx.ExecValues(ctx, insert, [][]any{{int64(1)}, {int64(2)}}, ``); err != nil {
			return err
		}
		var n int
		if err := tx.Get(ctx, `SELECT count(*) FROM applied`, nil, &n); err != nil {
			return err
		}
		if n != 2 {
			t.Errorf("a read after two queued rows counts %d", n)
		}
		return tx.ExecValues(ctx, insert, [][]any{{int64(3)}}, ``)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3 {
		t.Fatalf("%d rows after the batch, want 3", n)
	}
	for _, read := range []bool{true, false} {
		err := projection.InBatchTx(ctx, db, "applied", true, func(tx *projection.Tx) error {
			if err := tx.ExecValues(ctx, insert, [][]any{{int64(4)}}, ``); err != nil {
				return err
			}
			if err := tx.ExecValues(ctx, insert, [][]any{{int64(1)}}, ``); err != nil {
				t.Errorf("a queued write failed before it was sent: %v", err)
			}
			if !read {
				return nil
			}
			var n int
			return tx.Get(ctx, `SELECT count(*) FROM applied`, nil, &n)
		})
		if err == nil || !strings.Contains(err.Error(), "duplicate key") {
			t.Fatalf("read %v: a batch writing a duplicate key: %v", read, err)
		}
		if n := count(); n != 3 {
			t.Fatalf("read %v: %d rows after the failed batch, want the 3 before it", read, n)
		}
	}
	// The connections are fine for the next batch.
	for range 3 {
		if err := projection.InBatchTx(ctx, db, "applied", true, func(tx *projection.Tx) error {
			return tx.ExecValues(ctx, insert, [][]any{{int64(10 + count())}}, ``)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 6 {
		t.Fatalf("%d rows, want 6", n)
	}
}
