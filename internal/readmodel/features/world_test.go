package features_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/projection/projectiontest"
	"github.com/bluepoint/bluepoint/internal/readmodel/features"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/service/servicetest"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// world is an event store, a service writing to it, and a read database
// with the features projection.
type world struct {
	store  eventstore.Store
	svc    *service.Service
	clock  *clock
	staff  service.Actor
	db     *projection.DB
	runner *projection.Runner
}

// clock is the service's settable time source.
type clock = testenv.Clock

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// forEachDB runs fn on SQLite and, when configured, on Postgres.
func forEachDB(t *testing.T, fn func(t *testing.T, w *world)) {
	projectiontest.ForEachEngine(t, func(t *testing.T, s eventstore.Store, db *projection.DB) {
		fn(t, newWorld(t, s, db))
	})
}

func openSQLite(t *testing.T) *projection.DB {
	db, err := projection.OpenSQLite(filepath.Join(t.TempDir(), "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newWorld(t *testing.T, s eventstore.Store, db *projection.DB) *world {
	clk := testenv.NewClock(time.Date(2030, 3, 10, 9, 0, 0, 0, time.UTC))
	svc := servicetest.New(t, s, clk.Now)
	w := &world{store: s, svc: svc, clock: clk, db: db, runner: newRunner(t, s, db)}
	w.staff = servicetest.Staff(t, svc, "Operator One", "ops@example.org")
	return w
}

func newRunner(t *testing.T, s eventstore.Store, db *projection.DB) *projection.Runner {
	r, err := projection.New(ctxT(t), projection.Config{DB: db, Store: s, Projections: []projection.Projection{features.New()}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ref(t *testing.T, out *command.Outcome) service.AccountRef {
	t.Helper()
	var r service.AccountRef
	if err := json.Unmarshal(out.Result.Body, &r); err != nil {
		t.Fatalf("decode result %s: %v", out.Result.Body, err)
	}
	return r
}

var profiles = map[account.Kind]account.Profile{
	account.Civilian: {},
	account.Officer:  {BadgeNumber: "B-17", Department: "Central"},
	account.Merchant: {BusinessName: "Corner Shop", Address: "1 Main St"},
	account.Charity:  {RegistrationNumber: "CH-001"},
}

func (w *world) open(t *testing.T, kind account.Kind, email string) service.Actor {
	t.Helper()
	out, err := w.svc.OpenAccount(ctxT(t), service.Call{}, service.OpenAccount{Kind: kind, Name: "Ana Pérez",
		Email: email, Password: "s3cret-enough", Profile: profiles[kind]})
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	r := ref(t, out)
	return service.Actor{ID: r.ID, Kind: r.Kind}
}

func (w *world) verify(t *testing.T, id string) {
	t.Helper()
	if _, err := w.svc.VerifyAccount(ctxT(t), service.Call{Actor: w.staff}, id); err != nil {
		t.Fatalf("verify %s: %v", id, err)
	}
}

func (w *world) interact(t *testing.T, civ, off service.Actor) {
	t.Helper()
	tok, err := w.svc.RequestEncounter(ctxT(t), service.Call{Actor: civ})
	if err != nil {
		t.Fatalf("request encounter: %v", err)
	}
	if _, err := w.svc.RecordInteraction(ctxT(t), service.Call{Actor: off}, tok.Token); err != nil {
		t.Fatalf("interaction: %v", err)
	}
}

func (w *world) rebuild(t *testing.T) {
	t.Helper()
	if err := w.runner.Rebuild(ctxT(t), features.Name, nil); err != nil {
		t.Fatal(err)
	}
}
