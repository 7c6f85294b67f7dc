package sqlite_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/sqlite"
)

// Two processes on one file: each store notices, at its next write, that
// the other one committed, and never counts its own commits.
func TestOtherWritesNoticedAtTheNextWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	open := func() *sqlite.Store {
		s, err := sqlite.Open(ctx, sqlite.Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	appendOne := func(s *sqlite.Store) {
		t.Helper()
		if _, err := s.Append(ctx, &eventstore.AppendParams{Streams: []eventstore.StreamAppend{{
			StreamID: eventstore.StreamID("account", uuid.NewString()), Expected: eventstore.NoStream,
			Events: []eventstore.EventData{{Type: "Opened", Data: json.RawMessage(`{}`)}},
		}}}); err != nil {
			t.Fatal(err)
		}
	}
	one, two := open(), open()
	start, watching := one.OtherWrites()
	if !watching {
		t.Fatal("an open store does not watch")
	}
	appendOne(one)
	appendOne(one)
	if n, _ := one.OtherWrites(); n != start {
		t.Fatalf("the store's own commits moved its count from %d to %d", start, n)
	}
	appendOne(two)
	appendOne(one)
	if n, _ := one.OtherWrites(); n == start {
		t.Fatal("the other store's commit was not noticed at the next write")
	}
}
