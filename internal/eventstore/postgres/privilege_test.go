package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// The service runs as the application role, which can append and read
// events but never rewrite or remove them.
func TestAppRoleCannotRewriteHistory(t *testing.T) {
	t.Parallel()
	url := testenv.Postgres(t)
	ctx := context.Background()
	schema := storetest.NewSchema(t, url)
	// Open migrates a schema that is behind, as the owner, then drops to the app role.
	s, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if role, err := s.Role(ctx); err != nil || role != postgres.DefaultAppRole {
		t.Fatalf("store runs as %q (%v), want %q", role, err, postgres.DefaultAppRole)
	}
	if _, err := s.Append(ctx, &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
		{StreamID: "account-1", Expected: eventstore.NoStream, Events: []eventstore.EventData{{Type: "Opened", Data: []byte(`{}`)}}}}}); err != nil {
		t.Fatalf("the app role must be able to append: %v", err)
	}
	for _, stmt := range []string{
		`UPDATE events SET type = 'Forged'`,
		`DELETE FROM events`,
		`TRUNCATE events`,
		`UPDATE events SET data = '{}' WHERE stream_id = 'account-1'`,
	} {
		_, err := s.Pool().Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s as the app role: want insufficient_privilege (42501), got %v", stmt, err)
		}
	}
	evs, err := s.ReadStream(ctx, &eventstore.ReadStreamParams{StreamID: "account-1"})
	if err != nil || len(evs) != 1 || evs[0].Type != "Opened" {
		t.Fatalf("history changed: %v %+v", err, evs)
	}
	// The owner, by contrast, could: the refusal comes from the grants.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "events"}.Sanitize()); err != nil {
		t.Fatalf("owner cannot read: %v", err)
	}
}
