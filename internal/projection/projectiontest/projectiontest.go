// Package projectiontest gives read-model tests their engines: an event
// store with a read database beside it, on SQLite always and on Postgres
// when the test environment has one, so every read model is tested on both.
package projectiontest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// ForEachEngine runs fn as subtests "sqlite" and "postgres", each with a
// fresh event store and read database that are closed (and dropped) when
// the subtest ends. The Postgres read database runs as the application
// role, as in production.
func ForEachEngine(t *testing.T, fn func(t *testing.T, store eventstore.Store, db *projection.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		store := storetest.OpenSQLite(t, storetest.Options{})
		db, err := projection.OpenSQLite(filepath.Join(t.TempDir(), "read.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, store, db)
	})
	t.Run("postgres", func(t *testing.T) {
		url := testenv.Postgres(t)
		ctx := context.Background()
		schema := storetest.NewSchema(t, url)
		if err := postgres.Migrate(ctx, postgres.MigrateParams{URL: url, Schema: schema}); err != nil {
			t.Fatal(err)
		}
		store, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		db, err := projection.OpenPostgres(ctx, url, postgres.ReadSchema(schema), postgres.DefaultAppRole)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, store, db)
	})
}
