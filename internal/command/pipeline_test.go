package command_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bluepoint/bluepoint/internal/codec"
	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/eventstore"
)

func TestHappyPath(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		id, key, trace := newID(), newID(), newID()
		meta := eventstore.Metadata{TraceID: trace, CorrelationID: "corr", ActorID: "alice"}
		out := e.run(t, &command.Request{
			Name: "Deposit", IdempotencyKey: key, Fingerprint: "f1", Meta: meta,
			Handle: deposit(id, 50),
		})
		if out.Replayed || out.Attempts != 1 || out.Result.Status != 200 || string(out.Result.Body) != `{"balance":50}` {
			t.Fatalf("outcome = %+v", out)
		}
		if len(out.Events) != 1 || out.Events[0].Type != "Deposited" || out.Events[0].StreamID != accounts.Stream(id) ||
			out.Events[0].StreamVersion != 1 || out.Events[0].Metadata != meta {
			t.Fatalf("events = %+v", out.Events)
		}
		if got := e.balance(t, id); got != 50 {
			t.Fatalf("balance = %d, want 50", got)
		}
		rec, err := e.store.Idempotency(ctxT(t), key)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Fingerprint != "f1" || rec.Status != 200 || string(rec.Response) != `{"balance":50}` {
			t.Fatalf("idempotency record = %+v", rec)
		}
		steps := e.steps(t, trace)
		if len(steps) != 1 || steps[0].Step != "command.Deposit" || steps[0].Status != command.StatusApplied || steps[0].Detail != "1 event" {
			t.Fatalf("trace steps = %+v", steps)
		}
	})
}

func TestReplaySameKeyAppliesOnce(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		id, key, trace := newID(), newID(), newID()
		req := &command.Request{
			Name: "Deposit", IdempotencyKey: key, Fingerprint: "f1",
			Meta: eventstore.Metadata{TraceID: trace}, Handle: deposit(id, 50),
		}
		first := e.run(t, req)
		second := e.run(t, req)
		// The first attempt does not look the key up: its append finds it
		// taken, and the command answers from the record.
		if !second.Replayed || second.Attempts != 1 || second.Events != nil {
			t.Fatalf("second outcome = %+v, want a replay after one attempt", second)
		}
		if second.Result.Status != first.Result.Status || string(second.Result.Body) != string(first.Result.Body) {
			t.Fatalf("replayed result %+v differs from the first %+v", second.Result, first.Result)
		}
		if v := e.version(t, id); v != 1 {
			t.Fatalf("stream version = %d after a replay, want 1", v)
		}
		steps := e.steps(t, trace)
		if len(steps) != 2 || steps[0].Status != command.StatusApplied || steps[1].Status != command.StatusDuplicate {
			t.Fatalf("trace steps = %+v, want applied then duplicate", steps)
		}
	})
}

func TestSameKeyOtherRequestIsRefused(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		id, key := newID(), newID()
		e.run(t, &command.Request{Name: "Deposit", IdempotencyKey: key, Fingerprint: "f1", Handle: deposit(id, 50)})
		_, err := e.p.Run(ctxT(t), &command.Request{Name: "Deposit", IdempotencyKey: key, Fingerprint: "f2", Handle: deposit(id, 70)})
		var mismatch *command.IdempotencyMismatchError
		if !errors.As(err, &mismatch) || mismatch.Key != key {
			t.Fatalf("err = %v, want *IdempotencyMismatchError for %s", err, key)
		}
		if got := e.balance(t, id); got != 50 {
			t.Fatalf("balance = %d, want 50: the refused request must not apply", got)
		}
	})
}

func TestDomainErrorAppendsNothing(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		id, key, trace := newID(), newID(), newID()
		e.open(t, id, 10)
		_, err := e.p.Run(ctxT(t), &command.Request{
			Name: "Withdraw", IdempotencyKey: key, Fingerprint: "f1",
			Meta: eventstore.Metadata{TraceID: trace}, Handle: withdraw(id, 11),
		})
		if !errors.Is(err, errInsufficientFunds) || !strings.HasPrefix(err.Error(), "Withdraw: ") {
			t.Fatalf("err = %v, want insufficient funds wrapped with the command name", err)
		}
		if v := e.version(t, id); v != 1 {
			t.Fatalf("stream version = %d, want 1: nothing appended", v)
		}
		if _, err := e.store.Idempotency(ctxT(t), key); !errors.Is(err, eventstore.ErrNotFound) {
			t.Fatalf("idempotency record after a rejection: %v, want ErrNotFound", err)
		}
		steps := e.steps(t, trace)
		if len(steps) != 1 || steps[0].Step != "command.Withdraw" || steps[0].Status != command.StatusRejected ||
			!strings.Contains(steps[0].Detail, "insufficient funds") {
			t.Fatalf("trace steps = %+v, want one rejected step naming the reason", steps)
		}
	})
}

func TestRetryAfterConflict(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		id, trace := newID(), newID()
		e.open(t, id, 10)
		out := e.run(t, &command.Request{
			Name: "Withdraw", Meta: eventstore.Metadata{TraceID: trace},
			Handle: e.interfere(accounts.Stream(id), withdraw(id, 4)),
		})
		if out.Attempts != 2 {
			t.Fatalf("attempts = %d, want 2", out.Attempts)
		}
		// 10, +1 by the interfering writer, -4 once: the retry decided on
		// fresh state, and the losing attempt left nothing behind.
		if got := e.balance(t, id); got != 7 {
			t.Fatalf("balance = %d, want 7", got)
		}
		if string(out.Result.Body) != `{"balance":7}` {
			t.Fatalf("result = %s, want the retry's answer", out.Result.Body)
		}
		if steps := e.steps(t, trace); len(steps) != 1 || steps[0].Detail != "1 event after 2 attempts" {
			t.Fatalf("trace steps = %+v", steps)
		}
	})
}

func TestLoadedStreamIsCheckedEvenWithoutEvents(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		// The command reads a limit from one account and writes another: a
		// change to the account it only read must still force a retry.
		limit, target := newID(), newID()
		e.open(t, limit, 5)
		var seen []int64
		h := func(ctx context.Context, s *command.Session) (command.Result, error) {
			l, _, err := command.Load(ctx, s, accounts, limit)
			if err != nil {
				return command.Result{}, err
			}
			seen = append(seen, l.Balance)
			s.Emit(accounts.Stream(target), deposited{Amount: l.Balance})
			return command.Result{Status: 200}, nil
		}
		out := e.run(t, &command.Request{Name: "CopyLimit", Handle: e.interfere(accounts.Stream(limit), h)})
		if out.Attempts != 2 || len(seen) != 2 || seen[1] != 6 {
			t.Fatalf("attempts = %d, seen = %v: want a retry that saw the new limit 6", out.Attempts, seen)
		}
		if got := e.balance(t, target); got != 6 {
			t.Fatalf("target balance = %d, want 6", got)
		}
	})
}

func TestRetriesAreBounded(t *testing.T) {
	forEachStore(t, command.Config{MaxRetries: 2}, func(t *testing.T, e *env) {
		id, trace := newID(), newID()
		e.open(t, id, 10)
		runs := 0
		h := func(ctx context.Context, s *command.Session) (command.Result, error) {
			runs++
			return e.interfere(accounts.Stream(id), withdraw(id, 1))(ctx, s) // a fresh wrapper conflicts every time
		}
		_, err := e.p.Run(ctxT(t), &command.Request{Name: "Withdraw", Meta: eventstore.Metadata{TraceID: trace}, Handle: h})
		var conflict *eventstore.ConcurrencyError
		if !errors.As(err, &conflict) {
			t.Fatalf("err = %v, want a wrapped *ConcurrencyError", err)
		}
		if runs != 3 {
			t.Fatalf("handler ran %d times, want 1 + MaxRetries = 3", runs)
		}
		if got := e.balance(t, id); got != 13 {
			t.Fatalf("balance = %d, want 13: only the interfering deposits", got)
		}
		if steps := e.steps(t, trace); len(steps) != 1 || steps[0].Status != command.StatusFailed {
			t.Fatalf("trace steps = %+v, want one failed step", steps)
		}
	})
}

func TestTransferIsAtomic(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		a, b := newID(), newID()
		e.open(t, a, 100)
		e.open(t, b, 100)

		out := e.run(t, &command.Request{Name: "Transfer", Handle: transfer(a, b, 30)})
		if len(out.Events) != 2 {
			t.Fatalf("events = %+v, want one per stream", out.Events)
		}
		if ga, gb := e.balance(t, a), e.balance(t, b); ga != 70 || gb != 130 {
			t.Fatalf("balances = %d, %d, want 70, 130", ga, gb)
		}

		// A conflict on the receiving stream fails the whole append: the
		// withdrawal from a must not be recorded without its deposit.
		out = e.run(t, &command.Request{Name: "Transfer", Handle: e.interfere(accounts.Stream(b), transfer(a, b, 20))})
		if out.Attempts != 2 {
			t.Fatalf("attempts = %d, want 2", out.Attempts)
		}
		if va := e.version(t, a); va != 3 {
			t.Fatalf("version of a = %d, want 3: the lost attempt must leave nothing", va)
		}
		if ga, gb := e.balance(t, a), e.balance(t, b); ga != 50 || gb != 151 {
			t.Fatalf("balances = %d, %d, want 50, 151", ga, gb)
		}

		// A refused transfer changes neither side.
		if _, err := e.p.Run(ctxT(t), &command.Request{Name: "Transfer", Handle: transfer(a, b, 51)}); !errors.Is(err, errInsufficientFunds) {
			t.Fatalf("err = %v, want insufficient funds", err)
		}
		if va, vb := e.version(t, a), e.version(t, b); va != 3 || vb != 4 {
			t.Fatalf("versions = %d, %d, want 3, 4", va, vb)
		}
	})
}

func TestNoEventsStillKeepsTheKey(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		// A command that decides there is nothing to do still answers a retry
		// the same way, because its record goes with a check-only append.
		id, key := newID(), newID()
		e.open(t, id, 5)
		check := func(ctx context.Context, s *command.Session) (command.Result, error) {
			a, _, err := command.Load(ctx, s, accounts, id)
			if err != nil {
				return command.Result{}, err
			}
			return balanceResult(a.Balance), nil
		}
		out := e.run(t, &command.Request{Name: "Check", IdempotencyKey: key, Fingerprint: "f", Handle: check})
		if out.Replayed || len(out.Events) != 0 {
			t.Fatalf("outcome = %+v", out)
		}
		e.open(t, id, 1)
		out = e.run(t, &command.Request{Name: "Check", IdempotencyKey: key, Fingerprint: "f", Handle: check})
		if !out.Replayed || string(out.Result.Body) != `{"balance":5}` {
			t.Fatalf("outcome = %+v, want the stored answer", out)
		}
	})
}

func TestFailuresAreNotRejections(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		id, trace := newID(), newID()
		// An event this program does not know makes the stream unreadable:
		// that is a failure to report, not a domain decision.
		_, err := e.store.Append(ctxT(t), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{{
			StreamID: accounts.Stream(id), Expected: eventstore.NoStream,
			Events: []eventstore.EventData{{Type: "FromTheFuture", Data: json.RawMessage(`{}`)}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.p.Run(ctxT(t), &command.Request{Name: "Withdraw", Meta: eventstore.Metadata{TraceID: trace}, Handle: withdraw(id, 1)})
		if !errors.Is(err, codec.ErrUnknownType) {
			t.Fatalf("err = %v, want ErrUnknownType", err)
		}
		if steps := e.steps(t, trace); len(steps) != 1 || steps[0].Status != command.StatusFailed {
			t.Fatalf("trace steps = %+v, want one failed step", steps)
		}

		// Emitting a type the codec does not know fails before any write.
		type unknown struct{}
		other := newID()
		_, err = e.p.Run(ctxT(t), &command.Request{Name: "Odd", Handle: func(ctx context.Context, s *command.Session) (command.Result, error) {
			s.Emit(accounts.Stream(other), deposited{Amount: 1}, unknown{})
			return command.Result{}, nil
		}})
		if !errors.Is(err, codec.ErrUnknownType) {
			t.Fatalf("err = %v, want ErrUnknownType", err)
		}
		if v := e.version(t, other); v != 0 {
			t.Fatalf("version = %d, want 0: nothing appended", v)
		}
	})
}

func TestInvalidRequests(t *testing.T) {
	st := openSQLite(t)
	p, err := command.New(st, newBankCodec(), command.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ok := deposit(newID(), 1)
	tests := map[string]struct {
		req   *command.Request
		field string
	}{
		"nil":                {nil, "request"},
		"no name":            {&command.Request{Handle: ok}, "name"},
		"no handler":         {&command.Request{Name: "X"}, "handle"},
		"key no fingerprint": {&command.Request{Name: "X", IdempotencyKey: "k", Handle: ok}, "fingerprint"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := p.Run(ctxT(t), tt.req)
			var ve *eventstore.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field {
				t.Fatalf("err = %v, want a *ValidationError for %s", err, tt.field)
			}
		})
	}
	if _, err := command.New(nil, newBankCodec(), command.Config{}); err == nil {
		t.Error("New without a store succeeded")
	}
	if _, err := command.New(st, newBankCodec(), command.Config{RetryBackoff: -1}); err == nil {
		t.Error("New with a negative backoff succeeded")
	}
}
