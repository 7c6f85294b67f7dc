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

// A rebuild reads the global log in batches after a position, of one
// category or of all. On a log never analysed, each batch must still walk
// an index in the log's order and stop at the limit: a plan that gathers
// every later event and sorts it reads the whole rest of the log for each
// batch.
func TestReadAllWalksTheLogInOrderBeforeAnalysis(t *testing.T) {
	h := openHeld(t)
	ctx := context.Background()
	for range 20 {
		p := &eventstore.AppendParams{}
		for range 25 {
			p.Streams = append(p.Streams, one(eventstore.StreamID("account", uuid.NewString()), eventstore.NoStream,
				"Credited", "Credited", "Credited", "Credited", "Credited", "Credited", "Credited", "Credited", "Credited").Streams...)
		}
		p.Streams = append(p.Streams, one(eventstore.StreamID("rule", uuid.NewString()), eventstore.NoStream).Streams...)
		mustAppend(t, h, p)
	}
	for _, p := range []eventstore.ReadAllParams{
		{Limit: 100},
		{Limit: 100, Categories: []string{"account"}},
		{Limit: 100, After: eventstore.Position{TxID: 1, Global: 1000}, Categories: []string{"account"}},
	} {
		sql, args := postgres.ReadAllQuery(&p)
		for name, plan := range map[string]func(context.Context, *postgres.Store, string, ...any) (string, error){
			"custom": postgres.CustomPlan, "generic": postgres.GenericPlan,
		} {
			got, err := plan(ctx, h.Store, sql, args...)
			if err != nil {
				t.Fatalf("%s plan for %+v: %v", name, p, err)
			}
			if strings.Contains(got, "Sort") || strings.Contains(got, "Bitmap") || !strings.Contains(got, "Index") {
				t.Errorf("%s plan for categories %v:\n%s\nwant an index walked in order, no sort", name, p.Categories, got)
			}
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
	// walked checks the inserts sent in batches since the last call and
	// returns the kinds it saw (the first words of each statement).
	walked := func(way string) map[string]bool {
		t.Helper()
		kinds := map[string]bool{}
		for _, st := range rt.Batched() {
			head := strings.ToUpper(strings.Fields(st.SQL)[0])
			if !strings.Contains(st.SQL, "unnest(") || (head != "INSERT" && head != "WITH") {
				continue
			}
			plan, err := postgres.GenericPlan(ctx, h.Store, st.SQL, st.Args...)
			if err != nil {
				t.Fatalf("%s: %s: %v", way, st.SQL, err)
			}
			if strings.Contains(plan, "Function Scan") || !strings.Contains(plan, "ProjectSet") {
				t.Errorf("%s: %s:\n%s\nwant the arrays read in the select list (a ProjectSet, no Function Scan)", way, st.SQL, plan)
			}
			kinds[strings.Join(strings.Fields(st.SQL)[:3], " ")] = true
		}
		return kinds
	}
	mustAppend(t, h, full())
	// Alone, the events and the trace step go as arrays; the rest are
	// single rows.
	if kinds := walked("alone"); !kinds["WITH input AS"] || !kinds["INSERT INTO trace_steps"] {
		t.Errorf("alone: checked %v, want the events and the trace steps", kinds)
	}
	if _, errs := h.group(t, full(), full(), full()); errors.Join(errs...) != nil {
		t.Fatal(errors.Join(errs...))
	}
	if fell := postgres.Fallbacks(h.Store); fell != 0 {
		t.Fatalf("%d groups fell back to appends alone", fell)
	}
	// A group's writes: streams, events, claims, credentials, data keys,
	// idempotency keys and trace steps.
	if kinds := walked("group"); len(kinds) < 7 {
		t.Errorf("group: checked %d kinds of insert, want 7: %v", len(kinds), kinds)
	}
}
