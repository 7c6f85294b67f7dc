package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/sqlite"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
)

func TestMain(m *testing.M) {
	if storetest.CrashChild(func(path string) (eventstore.Store, error) {
		return sqlite.Open(context.Background(), sqlite.Config{Path: path})
	}) {
		return
	}
	os.Exit(m.Run())
}

func TestAcknowledgedAppendsSurviveKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	storetest.RunCrash(t, path, func(t *testing.T) eventstore.Store {
		s, err := sqlite.Open(context.Background(), sqlite.Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
