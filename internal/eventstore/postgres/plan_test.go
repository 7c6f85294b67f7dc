package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// The planner takes a new table for ten pages until autovacuum analyses
// it, and a prepared statement keeps its plan as the table grows: the
// store's key lookups must use their indexes from the first statement on.
func TestKeyLookupsUseIndexesOnYoungTables(t *testing.T) {
	url := testenv.Postgres(t)
	schema := storetest.NewSchema(t, url)
	ctx := context.Background()
	if err := postgres.Migrate(ctx, postgres.MigrateParams{URL: url, Schema: schema}); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A young table: a few hundred rows, never analysed.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`INSERT INTO data_keys (subject, wrapped, created_at) SELECT 's' || i, '\x00', now() FROM generate_series(1, 500) i`,
		`INSERT INTO streams (stream_id, category, version) SELECT 'account-' || i, 'account', 1 FROM generate_series(1, 500) i`,
		`INSERT INTO claims (scope, value, owner) SELECT 'email', i || '@example.org', 'account-' || i FROM generate_series(1, 500) i`,
	} {
		if _, err := conn.Exec(ctx, strings.ReplaceAll(q, "INSERT INTO ", "INSERT INTO "+pgx.Identifier{schema}.Sanitize()+".")); err != nil {
			t.Fatal(err)
		}
	}
	keys := []string{"a", "b", "c"}
	for q, params := range postgres.GroupReads {
		args := make([]any, params)
		for i := range args {
			args[i] = keys
		}
		plan, err := postgres.GenericPlan(ctx, s, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s:\n%s\nwant index scans only", q, plan)
		}
	}
}
