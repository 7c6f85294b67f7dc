package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// A transaction of unsynced writes alone commits without an fsync, and the
// writer is back to the configured mode for the next one that holds
// anything else.
func TestUnsyncedWritesAloneSkipTheSync(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	// PRAGMA synchronous reads 1 for NORMAL and 2 for FULL; the writer has
	// one connection, idle between the writes below.
	mode := func() int {
		t.Helper()
		var m int
		if err := s.writeDB.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := mode(); m != 2 {
		t.Fatalf("a new store's writer: synchronous %d, want 2 (FULL)", m)
	}
	steps := []eventstore.TraceStep{{TraceID: "trace-1", Step: "test", Status: "ok"}}
	if err := s.RecordTraceSteps(ctx, steps); err != nil {
		t.Fatal(err)
	}
	if m := mode(); m != 1 {
		t.Fatalf("after trace steps alone: synchronous %d, want 1 (NORMAL)", m)
	}
	if _, err := s.Append(ctx, &eventstore.AppendParams{Streams: []eventstore.StreamAppend{{StreamID: "account-1",
		Expected: eventstore.NoStream, Events: []eventstore.EventData{{Type: "Opened", Data: []byte(`{}`)}}}}}); err != nil {
		t.Fatal(err)
	}
	if m := mode(); m != 2 {
		t.Fatalf("after an append: synchronous %d, want 2 (FULL)", m)
	}
	if got := synchronousFor([]*writeReq{{unsynced: true}, {}}, "FULL"); got != "FULL" {
		t.Fatalf("a batch with one synced write commits with %s", got)
	}
	if got := synchronousFor([]*writeReq{{unsynced: true}, {unsynced: true}}, "FULL"); got != "NORMAL" {
		t.Fatalf("a batch of unsynced writes commits with %s", got)
	}
}

// The writer keeps its savepoints' journals in memory (temp_store 2), and
// the readers, whose sorts can be large, keep the default (0: a file past
// SQLite's own limits).
func TestWriterJournalsSavepointsInMemory(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	var w, r int
	if err := s.writeDB.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&w); err != nil {
		t.Fatal(err)
	}
	if err := s.readDB.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&r); err != nil {
		t.Fatal(err)
	}
	if w != 2 || r != 0 {
		t.Fatalf("temp_store: writer %d, readers %d; want 2 and 0", w, r)
	}
}

// openStore opens a store on a fresh file, closed when the test ends.
func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
