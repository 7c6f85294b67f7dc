package stmtcache

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// open opens a one-connection database, as the read models' writer is, and
// counts the statements it prepares; once the database is closed, every
// statement must have been closed too.
func open(t *testing.T, size int) (*sql.DB, *atomic.Int64) {
	t.Helper()
	var n, live atomic.Int64
	counted = func(delta int) {
		if delta > 0 {
			n.Add(1)
		}
		live.Add(int64(delta))
	}
	t.Cleanup(func() {
		counted = nil
		if l := live.Load(); l != 0 {
			t.Errorf("%d statements left open after the database closed", l)
		}
	})
	db, err := Open("file:"+filepath.Join(t.TempDir(), "c.db")+"?_pragma=journal_mode(WAL)", size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	mustExec(t, db, `CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`)
	return db, &n
}

func mustExec(t *testing.T, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func count(t *testing.T, db *sql.DB) (n int) {
	t.Helper()
	if err := db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSameSQLIsPreparedOnce(t *testing.T) {
	db, prepares := open(t, 8)
	before := prepares.Load()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		mustExec(t, tx, `INSERT INTO t (k, v) VALUES (?, ?)`, i, "x")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if got := count(t, db); got != 100 {
			t.Fatalf("count = %d, want 100", got)
		}
	}
	// BEGIN and COMMIT go through the driver's transaction, not Exec.
	if got := prepares.Load() - before; got != 2 {
		t.Fatalf("prepared %d statements for 2 distinct SQL texts", got)
	}
}

func TestSameSQLWhileItsRowsAreOpen(t *testing.T) {
	db, _ := open(t, 8)
	for i := range 5 {
		mustExec(t, db, `INSERT INTO t (k, v) VALUES (?, ?)`, i, strings.Repeat("v", i))
	}
	const q = `SELECT k, v FROM t WHERE k >= ? ORDER BY k`
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	outer, err := conn.QueryContext(context.Background(), q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	for outer.Next() {
		var k int
		var v string
		if err := outer.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, k)
		// The same SQL again, on the same connection, while the outer rows
		// are open: it must not reset the statement they read from.
		inner, err := conn.QueryContext(context.Background(), q, k)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		for inner.Next() {
			n++
		}
		inner.Close()
		if n != 5-k {
			t.Fatalf("inner query from %d gave %d rows, want %d", k, n, 5-k)
		}
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 5 {
		t.Fatalf("outer rows %v, want 0..4", seen)
	}
}

func TestEvictedWhileBusyIsClosedAfterItsRows(t *testing.T) {
	db, prepares := open(t, 1)
	for i := range 3 {
		mustExec(t, db, `INSERT INTO t (k, v) VALUES (?, 'x')`, i)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const q = `SELECT k FROM t ORDER BY k`
	rows, err := conn.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for rows.Next() {
		var k int
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
		if k == 0 {
			// A cache of one: other SQL evicts the statement the rows
			// still read from, which must stay open until they close.
			mustExec(t, conn, `UPDATE t SET v = 'y' WHERE k = 2`)
		}
	}
	rows.Close()
	if len(got) != 3 {
		t.Fatalf("rows %v, want [0 1 2]", got)
	}
	before := prepares.Load()
	again, err := conn.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
	if got := prepares.Load() - before; got != 1 {
		t.Fatalf("prepared %d statements, want 1: the evicted one is gone", got)
	}
}

func TestFailedPrepareIsNotCached(t *testing.T) {
	db, _ := open(t, 8)
	if _, err := db.Exec(`INSERT INTO missing (k) VALUES (1)`); err == nil {
		t.Fatal("insert into a missing table succeeded")
	}
	mustExec(t, db, `CREATE TABLE missing (k INTEGER)`)
	mustExec(t, db, `INSERT INTO missing (k) VALUES (1)`)
}

func TestSchemaChangeUnderACachedStatement(t *testing.T) {
	db, _ := open(t, 8)
	mustExec(t, db, `INSERT INTO t (k, v) VALUES (1, 'a')`)
	var v string
	if err := db.QueryRow(`SELECT * FROM t WHERE k = 1`).Scan(new(int), &v); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `DROP TABLE t`)
	mustExec(t, db, `CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL, w TEXT NOT NULL DEFAULT 'w')`)
	mustExec(t, db, `INSERT INTO t (k, v) VALUES (1, 'b')`)
	var w string
	if err := db.QueryRow(`SELECT * FROM t WHERE k = 1`).Scan(new(int), &v, &w); err != nil {
		t.Fatalf("the cached SELECT * after the table changed: %v", err)
	}
	if v != "b" || w != "w" {
		t.Fatalf("got %q %q, want the new table's row", v, w)
	}
}

func TestLongSQLIsNotKept(t *testing.T) {
	db, prepares := open(t, 8)
	long := `INSERT INTO t (k, v) VALUES (?, '` + strings.Repeat("x", MaxSQL) + `')`
	before := prepares.Load()
	mustExec(t, db, long, 1)
	mustExec(t, db, long, 2)
	if got := prepares.Load() - before; got != 2 {
		t.Fatalf("prepared %d times, want 2 (not kept)", got)
	}
}
