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
	for _, q := range []string{
		`SELECT subject FROM data_keys WHERE subject = ANY($1)`,
		`SELECT stream_id, version FROM streams WHERE stream_id = ANY($1) ORDER BY stream_id COLLATE "C" FOR UPDATE`,
		`SELECT c.scope, c.value, c.owner FROM claims c JOIN unnest($1::text[], $1::text[]) AS u(scope, value) ON c.scope = u.scope AND c.value = u.value`,
		`SELECT key FROM idempotency WHERE key = ANY($1)`,
	} {
		plan, err := postgres.GenericPlan(ctx, s, q, keys)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s:\n%s\nwant index scans only", q, plan)
		}
	}
}
