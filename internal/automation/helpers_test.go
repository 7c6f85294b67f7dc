package automation_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/auth/password"
	"github.com/bluepoint/bluepoint/internal/automation"
	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/outbox"
	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/sinkconfig"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// fastHashes keeps tests quick; the parameters travel with each hash.
var fastHashes = password.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

// env is the whole path of an event: a store, the service that appends to
// it, the outbox relay and an embedded JetStream.
type env struct {
	store  eventstore.Store
	svc    *service.Service
	broker *stream.Broker
	staff  service.Actor
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newEnv(t *testing.T, open func(*testing.T, storetest.Options) eventstore.Store) *env {
	t.Helper()
	st := open(t, storetest.Options{})
	master, err := pii.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	_, signing, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(service.Config{Store: st, Master: master, EncounterKey: signing,
		Hasher: password.NewHasher(fastHashes, 4), Pipeline: command.Config{MaxRetries: 50}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := stream.Open(ctxT(t), stream.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	relay := outbox.New(st, outbox.BrokerPublisher{Broker: b}, outbox.Config{PollInterval: 50 * time.Millisecond})
	if err := relay.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = relay.Stop(context.Background()) })
	e := &env{store: st, svc: svc, broker: b}
	out, err := svc.CreateStaff(ctxT(t), "Operator One", "ops@example.org", "staff-password")
	if err != nil {
		t.Fatalf("create staff: %v", err)
	}
	e.staff = service.Actor{ID: ref(t, out).ID, Kind: account.Staff}
	return e
}

// run parses a bluepoint.yaml and starts its automations; they stop when the
// test ends, before the broker closes.
func (e *env) run(t *testing.T, yaml string, getenv func(string) string) *automation.Runner {
	t.Helper()
	f, err := sinkconfig.Parse("bluepoint.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	r, err := automation.New(automation.Config{Broker: e.broker, Store: e.store, Commands: e.svc,
		Automations: f.Automations, Getenv: getenv, Backoff: []time.Duration{20 * time.Millisecond},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
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

func (e *env) open(t *testing.T, call service.Call, kind account.Kind, email string) service.AccountRef {
	t.Helper()
	profile := map[account.Kind]account.Profile{
		account.Officer: {BadgeNumber: "B-17", Department: "Central"},
		account.Charity: {RegistrationNumber: "CH-001"},
	}[kind]
	out, err := e.svc.OpenAccount(ctxT(t), call, service.OpenAccount{Kind: kind, Name: "Ana Pérez", Email: email,
		Password: "s3cret-enough", Profile: profile})
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	return ref(t, out)
}

// verified opens an account of a kind that staff must verify, and verifies it.
func (e *env) verified(t *testing.T, kind account.Kind, email string) service.Actor {
	t.Helper()
	r := e.open(t, service.Call{}, kind, email)
	if _, err := e.svc.VerifyAccount(ctxT(t), service.Call{Actor: e.staff}, r.ID); err != nil {
		t.Fatalf("verify %s: %v", r.ID, err)
	}
	return service.Actor{ID: r.ID, Kind: r.Kind}
}

// richCivilian gives a civilian points through a generous interaction rule.
func (e *env) richCivilian(t *testing.T, email string, points int64) service.Actor {
	t.Helper()
	if _, err := e.svc.ChangeRule(ctxT(t), service.Call{Actor: e.staff}, "interaction",
		map[string]int64{"civilian": points, "officer": 1}, ""); err != nil {
		t.Fatal(err)
	}
	r := e.open(t, service.Call{}, account.Civilian, email)
	civ := service.Actor{ID: r.ID, Kind: r.Kind}
	off := e.verified(t, account.Officer, "giver-"+email)
	tok, err := e.svc.RequestEncounter(ctxT(t), service.Call{Actor: civ})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecordInteraction(ctxT(t), service.Call{Actor: off}, tok.Token); err != nil {
		t.Fatal(err)
	}
	return civ
}

func (e *env) balance(t *testing.T, id string) int64 {
	t.Helper()
	st, err := e.svc.Account(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return st.Balance
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// steps returns the "step status" lines of a trace, those of one step only
// when step is not empty.
func (e *env) steps(t *testing.T, traceID, step string) []string {
	t.Helper()
	all, err := e.store.TraceSteps(ctxT(t), traceID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range all {
		if step == "" || s.Step == step {
			out = append(out, s.Step+" "+s.Status)
		}
	}
	return out
}

// stepDetails is like steps with the details, for failure messages.
func (e *env) stepDetails(t *testing.T, traceID string) string {
	t.Helper()
	all, _ := e.store.TraceSteps(ctxT(t), traceID)
	var s string
	for _, st := range all {
		s += fmt.Sprintf("\n  %s %s: %s", st.Step, st.Status, st.Detail)
	}
	return s
}

// eventOf returns the event of a type among a command's events.
func eventOf(t *testing.T, out *command.Outcome, typ string) eventstore.Event {
	t.Helper()
	for _, ev := range out.Events {
		if ev.Type == typ {
			return ev
		}
	}
	t.Fatalf("no %s among the command's events", typ)
	return eventstore.Event{}
}

// detail returns the detail of the first step of a trace with a status.
func detail(t *testing.T, e *env, traceID, step, status string) string {
	t.Helper()
	all, err := e.store.TraceSteps(ctxT(t), traceID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Step == step && s.Status == status {
			return s.Detail
		}
	}
	t.Fatalf("no step %s %s in trace %s", step, status, traceID)
	return ""
}
