package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/sqlite"
)

// OpenSQLite opens a fresh SQLite store in the test's temporary directory.
func OpenSQLite(t *testing.T, opts Options) eventstore.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), sqlite.Config{
		Path:         filepath.Join(t.TempDir(), "events.db"),
		BeforeCommit: opts.BeforeCommit,
	})
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
