package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/sqlite"
)

// SQLite has no roles, so triggers refuse any change to recorded events,
// even from a connection that bypasses the store.
func TestEventsAreImmutable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := sqlite.Open(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
		{StreamID: "account-1", Expected: eventstore.NoStream, Events: []eventstore.EventData{{Type: "Opened", Data: []byte(`{}`)}}}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{`UPDATE events SET type = 'Forged'`, `DELETE FROM events`} {
		if _, err := db.ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("%s: want the immutability trigger to refuse, got %v", stmt, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  sqlite.Config
		want string
	}{
		{sqlite.Config{}, "path is required"},
		{sqlite.Config{Path: "x.db", Synchronous: "OFF"}, `synchronous "OFF"`},
	} {
		if _, err := sqlite.Open(context.Background(), tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v) = %v, want an error containing %q", tc.cfg, err, tc.want)
		}
	}
}
