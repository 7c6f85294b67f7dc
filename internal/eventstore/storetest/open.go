package storetest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/sqlite"
	"github.com/bluepoint/bluepoint/internal/testenv"
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

// OpenPostgres migrates a fresh schema in the Postgres named by
// BLUEPOINT_TEST_POSTGRES and opens a store on it as the application role;
// the schema is dropped when the test ends.
func OpenPostgres(t *testing.T, opts Options) eventstore.Store {
	t.Helper()
	url := testenv.Postgres(t)
	schema := NewSchema(t, url)
	ctx := context.Background()
	if err := postgres.Migrate(ctx, postgres.MigrateParams{URL: url, Schema: schema}); err != nil {
		t.Fatalf("migrate postgres schema %s: %v", schema, err)
	}
	s, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: schema, BeforeCommit: opts.BeforeCommit})
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { s.Close() }) // runs before the schema's drop: cleanups are LIFO
	return s
}

// NewSchema names a fresh schema for one test and drops it, with everything
// in it, when the test ends.
func NewSchema(t testing.TB, url string) string {
	schema := "bp_test_" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
	t.Cleanup(func() { DropSchema(t, url, schema) })
	return schema
}

// DropSchema removes a test schema, and its read schema, as the owner.
func DropSchema(t testing.TB, url, schema string) {
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(context.Background())
	for _, s := range []string{schema, postgres.ReadSchema(schema)} {
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{s}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", s, err)
		}
	}
}
