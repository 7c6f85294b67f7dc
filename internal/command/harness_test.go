package command_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/codec"
	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
)

// env is one test's world: a real, empty store and a pipeline over it.
type env struct {
	store eventstore.Store
	codec *codec.Registry
	p     *command.Pipeline
}

// forEachStore runs fn once per driver: SQLite always, Postgres when the
// test environment provides one.
func forEachStore(t *testing.T, cfg command.Config, fn func(t *testing.T, e *env)) {
	t.Helper()
	drivers := []struct {
		name string
		open func(t *testing.T) eventstore.Store
	}{
		{"sqlite", openSQLite},
		{"postgres", func(t *testing.T) eventstore.Store { return storetest.OpenPostgres(t, storetest.Options{}) }},
	}
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			st := d.open(t)
			c := newBankCodec()
			// Seen only as a Store, the Postgres driver tells nothing of
			// other writers: every test but those of trusted states (see
			// trusting) decides on what it reads, on both drivers alike.
			p, err := command.New(struct{ eventstore.Store }{st}, c, cfg)
			if err != nil {
				t.Fatal(err)
			}
			fn(t, &env{store: st, codec: c, p: p})
		})
	}
}

func openSQLite(t *testing.T) eventstore.Store { return storetest.OpenSQLite(t, storetest.Options{}) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newID returns a fresh aggregate id, so tests sharing a database (Postgres)
// never see each other's streams.
func newID() string { return uuid.NewString() }

func (e *env) run(t *testing.T, req *command.Request) *command.Outcome {
	t.Helper()
	out, err := e.p.Run(ctxT(t), req)
	if err != nil {
		t.Fatalf("run %s: %v", req.Name, err)
	}
	return out
}

// open gives an account a starting balance.
func (e *env) open(t *testing.T, id string, balance int64) {
	t.Helper()
	e.run(t, &command.Request{Name: "Deposit", Handle: deposit(id, balance)})
}

func (e *env) balance(t *testing.T, id string) int64 {
	t.Helper()
	evs, err := e.store.ReadStream(ctxT(t), &eventstore.ReadStreamParams{StreamID: accounts.Stream(id)})
	if err != nil {
		t.Fatal(err)
	}
	var state []any
	for _, ev := range evs {
		v, err := e.codec.Decode(ev)
		if err != nil {
			t.Fatal(err)
		}
		state = append(state, v)
	}
	return accounts.Fold(state...).Balance
}

func (e *env) version(t *testing.T, id string) int64 {
	t.Helper()
	v, err := e.store.StreamVersion(ctxT(t), accounts.Stream(id))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// steps returns a trace's steps as "step status" strings.
func (e *env) steps(t *testing.T, traceID string) []eventstore.TraceStep {
	t.Helper()
	steps, err := e.store.TraceSteps(ctxT(t), traceID)
	if err != nil {
		t.Fatal(err)
	}
	return steps
}

// interfere wraps a handler so that, on its first run only, another writer
// appends to stream after the handler has loaded: a race the pipeline must
// lose and then retry.
func (e *env) interfere(stream string, h handler) handler {
	var calls atomic.Int32
	return func(ctx context.Context, s *command.Session) (command.Result, error) {
		res, err := h(ctx, s)
		if calls.Add(1) == 1 {
			_, aerr := e.store.Append(ctx, &eventstore.AppendParams{Streams: []eventstore.StreamAppend{{
				StreamID: stream, Expected: eventstore.Any,
				Events: []eventstore.EventData{{Type: "Deposited", Data: json.RawMessage(`{"amount":1}`)}},
			}}})
			if aerr != nil {
				return command.Result{}, aerr
			}
		}
		return res, err
	}
}
