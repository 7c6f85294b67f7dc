package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/eventstore"
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

// An append's inserts read their rows from arrays a row at a time (a
// ProjectSet), not through unnest in FROM, a function scan that first
// copies each array into a tuple store of its own: that copying was most
// of a wide insert's cost. Both ways of appending are checked: alone, and
// in a group, whose inserts take several appends' rows.
func TestAppendInsertsWalkTheArraysInStep(t *testing.T) {
	rt := &postgres.RoundTrips{}
	h := openHeld(t, func(c *postgres.Config) { postgres.CountRoundTrips(c, rt) })
	ctx := context.Background()
	n := 0
	full := func() *eventstore.AppendParams {
		n++
		p := one(eventstore.StreamID("account", uuid.NewString()), eventstore.NoStream, "Named")
		subject := p.Streams[0].StreamID
		p.Idempotency = &eventstore.IdempotencyRecord{Key: fmt.Sprintf("key-%d", n), Fingerprint: "f", Status: 201, Response: json.RawMessage(`{"ok":true}`)}
		p.Claims = []eventstore.Claim{{Scope: "email", Value: fmt.Sprintf("%d@example.org", n), Owner: subject}}
		p.Credentials = []eventstore.Credential{{Subject: subject, Secret: []byte("hash")}}
		p.DataKeys = []eventstore.DataKey{{Subject: subject, Wrapped: []byte("key")}}
		p.TraceSteps = []eventstore.TraceStep{{TraceID: fmt.Sprintf("trace-%d", n), Step: "command.Full", Status: "applied"}}
		return p
	}
	mustAppend(t, h, full())
	if _, errs := h.group(t, full(), full(), full()); errors.Join(errs...) != nil {
		t.Fatal(errors.Join(errs...))
	}
	if n := postgres.Fallbacks(h.Store); n != 0 {
		t.Fatalf("%d groups fell back to appends alone", n)
	}
	checked := map[string]bool{}
	for _, st := range rt.Batched() {
		head := strings.ToUpper(strings.Fields(st.SQL)[0])
		if !strings.Contains(st.SQL, "unnest(") || (head != "INSERT" && head != "WITH") {
			continue
		}
		plan, err := postgres.GenericPlan(ctx, h.Store, st.SQL, st.Args...)
		if err != nil {
			t.Fatalf("%s: %v", st.SQL, err)
		}
		if strings.Contains(plan, "Function Scan") {
			t.Errorf("%s:\n%s\nwant the arrays read in the select list", st.SQL, plan)
		}
		checked[strings.Join(strings.Fields(st.SQL)[:3], " ")] = true
	}
	// The group's writes: streams, events, claims, credentials, data keys,
	// idempotency keys and trace steps.
	if len(checked) < 7 {
		t.Errorf("checked %d kinds of insert, want at least 7: %v", len(checked), checked)
	}
}
