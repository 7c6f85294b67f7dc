package eventlog_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/projection/projectiontest"
	"github.com/bluepoint/bluepoint/internal/readmodel/eventlog"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/service/servicetest"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// clock is the service's settable time: event times in the log come from
// it, so the test knows every one of them.
type clock = testenv.Clock

type env struct {
	store eventstore.Store
	svc   *service.Service
	clock *clock
	db    *projection.DB
	staff service.Actor
}

func ctxT(t testing.TB) context.Context {
	limit := 5 * time.Minute
	if _, bench := t.(*testing.B); bench {
		limit = 2 * time.Hour // loading 10 million rows
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	return ctx
}

// forEachDB opens an event store and a read database on SQLite and, when
// configured, on Postgres.
func forEachDB(t *testing.T, fn func(t *testing.T, store eventstore.Store, db *projection.DB)) {
	projectiontest.ForEachEngine(t, fn)
}

// openPostgresRead opens the read schema of a fresh, migrated schema.
func openPostgresRead(t testing.TB) *projection.DB {
	url := testenv.Postgres(t)
	schema := storetest.NewSchema(t, url)
	if err := postgres.Migrate(ctxT(t), postgres.MigrateParams{URL: url, Schema: schema}); err != nil {
		t.Fatal(err)
	}
	return openRead(t, url, schema)
}

func openRead(t testing.TB, url, schema string) *projection.DB {
	db, err := projection.OpenPostgres(ctxT(t), url, postgres.ReadSchema(schema), postgres.DefaultAppRole)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openSQLiteRead(t testing.TB) *projection.DB {
	db, err := projection.OpenSQLite(filepath.Join(t.TempDir(), "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// forEachEnv adds a service with a settable clock, started at start.
func forEachEnv(t *testing.T, start time.Time, fn func(t *testing.T, e *env)) {
	forEachDB(t, func(t *testing.T, st eventstore.Store, db *projection.DB) {
		clk := testenv.NewClock(start)
		e := &env{store: st, svc: servicetest.New(t, st, clk.Now), clock: clk, db: db}
		e.staff = servicetest.Staff(t, e.svc, "Olga Operator", "ops@example.org")
		fn(t, e)
	})
}

func body[T any](t testing.TB, out *command.Outcome) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(out.Result.Body, &v); err != nil {
		t.Fatalf("decode %s: %v", out.Result.Body, err)
	}
	return v
}

// open signs up an account named name and verifies it when its kind needs it.
func (e *env) open(t *testing.T, kind account.Kind, name string, profile account.Profile) service.Actor {
	t.Helper()
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org"
	out, err := e.svc.OpenAccount(ctxT(t), service.Call{}, service.OpenAccount{Kind: kind, Name: name, Email: email,
		Password: "s3cret-enough", Profile: profile})
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	r := body[service.AccountRef](t, out)
	if kind.NeedsVerification() {
		if _, err := e.svc.VerifyAccount(ctxT(t), service.Call{Actor: e.staff}, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	return service.Actor{ID: r.ID, Kind: kind}
}

func (e *env) interact(t *testing.T, civ, off service.Actor) {
	t.Helper()
	tok, err := e.svc.RequestEncounter(ctxT(t), service.Call{Actor: civ})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecordInteraction(ctxT(t), service.Call{Actor: off}, tok.Token); err != nil {
		t.Fatal(err)
	}
}

// record records an external event at a chosen time and returns its id.
func (e *env) record(t *testing.T, typ, desc, customer string, at time.Time) string {
	t.Helper()
	out, err := e.svc.RecordEvent(ctxT(t), service.Call{Actor: e.staff}, service.ExternalEvent{Type: typ,
		Description: desc, CustomerID: customer, OccurredAt: at, Data: json.RawMessage(`{"source": "desk"}`)})
	if err != nil {
		t.Fatalf("record %s: %v", typ, err)
	}
	return body[service.ActivityRef](t, out).ID
}

// rebuild builds the event log from the store's global log.
func (e *env) rebuild(t *testing.T) {
	t.Helper()
	r, err := projection.New(ctxT(t), projection.Config{DB: e.db, Store: e.store, Projections: []projection.Projection{eventlog.New()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Rebuild(ctxT(t), eventlog.Name, nil); err != nil {
		t.Fatal(err)
	}
}
