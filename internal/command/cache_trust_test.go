package command_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// watched is a store whose news of other processes' writes the test makes:
// the count moves only when the test says, as if every other process's
// NOTIFY were lost or late.
type watched struct {
	*readLog
	count    atomic.Uint64
	watching atomic.Bool
}

func (w *watched) OtherWrites() (uint64, bool) { return w.count.Load(), w.watching.Load() }

var _ eventstore.OtherWriters = (*watched)(nil)

// trusting builds a pipeline over e's store that believes it hears of every
// other writer, with its reads recorded.
func trusting(t *testing.T, e *env) (*command.Pipeline, *watched) {
	t.Helper()
	w := &watched{readLog: &readLog{Store: e.store}}
	w.watching.Store(true)
	p, err := command.New(w, e.codec, command.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return p, w
}

// While no other process is known to write, a state the cache holds is
// used as it is: commands read nothing but what they never saw.
func TestTrustedCacheReadsNothing(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, w := trusting(t, e)
		id := newID()
		for range 3 {
			mustRun(t, p, "Deposit", deposit(id, 10))
		}
		if got := w.froms(); !slices.Equal(got, []int64{1}) {
			t.Fatalf("deposits read from versions %v, want [1]: only the first, which had nothing cached", got)
		}
		// A command that appends nothing has no append to check what it
		// saw: it reads.
		var balance, version int64
		mustRun(t, p, "Peek", peek(id, &balance, &version))
		if got := w.froms(); balance != 30 || version != 3 || !slices.Equal(got, []int64{4}) {
			t.Fatalf("peek saw %d at %d reading from %v, want 30 at 3 reading from [4]", balance, version, got)
		}

		// News of another writer: the next load reads, and what it read is
		// current again.
		w.count.Add(1)
		mustRun(t, p, "Deposit", deposit(id, 10))
		if got := w.froms(); !slices.Equal(got, []int64{4}) {
			t.Fatalf("after another process wrote, the deposit read from %v, want [4]", got)
		}
		mustRun(t, p, "Deposit", deposit(id, 10))
		if got := w.froms(); len(got) != 0 {
			t.Fatalf("a state current after the news was read again from %v", got)
		}

		// Not listening: nothing is current.
		w.watching.Store(false)
		mustRun(t, p, "Deposit", deposit(id, 10))
		if got := w.froms(); !slices.Equal(got, []int64{6}) {
			t.Fatalf("while not watching, the deposit read from %v, want [6]", got)
		}
		if got := e.balance(t, id); got != 60 {
			t.Fatalf("balance %d, want 60", got)
		}
	})
}

// staleWorld gives a trusting pipeline a cached balance of 10 for a stream
// that another process (which it never hears of) then moves on to 110.
func staleWorld(t *testing.T, e *env) (p *command.Pipeline, w *watched, id string) {
	t.Helper()
	p, w = trusting(t, e)
	other, err := command.New(e.store, e.codec, command.Config{})
	if err != nil {
		t.Fatal(err)
	}
	id = newID()
	mustRun(t, p, "Deposit", deposit(id, 10))
	mustRun(t, other, "Deposit", deposit(id, 100))
	w.take()
	return p, w, id
}

// A stale cached state never commits: the append finds the stream moved,
// and the retry decides on what it reads.
func TestTrustedStaleStateLosesAtTheAppend(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, w, id := staleWorld(t, e)
		out := mustRun(t, p, "Withdraw", withdraw(id, 5))
		if out.Attempts != 2 || string(out.Result.Body) != `{"balance":105}` {
			t.Fatalf("outcome %+v (%s), want a second attempt on the stored balance of 110", out, out.Result.Body)
		}
		if got := w.froms(); !slices.Equal(got, []int64{2}) {
			t.Fatalf("the retry read from %v, want [2]", got)
		}
		if got := e.balance(t, id); got != 105 {
			t.Fatalf("balance %d, want 105", got)
		}
	})
}

// A stale cached state never rejects: a refusal decided on it is decided
// again on what the store holds.
func TestTrustedStaleStateNeverRejects(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, _, id := staleWorld(t, e)
		out, err := p.Run(ctxT(t), &command.Request{Name: "Withdraw", Handle: withdraw(id, 50)})
		if err != nil {
			t.Fatalf("withdrawing 50 of 110 through a cache that says 10: %v", err)
		}
		if out.Attempts != 2 || string(out.Result.Body) != `{"balance":60}` {
			t.Fatalf("outcome %+v (%s), want the second attempt's balance of 60", out, out.Result.Body)
		}
		// A refusal that holds on the stored state is given.
		if _, err := p.Run(ctxT(t), &command.Request{Name: "Withdraw", Handle: withdraw(id, 1000)}); !errors.Is(err, errInsufficientFunds) {
			t.Fatalf("withdrawing 1000 of 60: err = %v, want insufficient funds", err)
		}
	})
}

// An answer that no append checks (nothing emitted) is not given from a
// stale cached state either.
func TestTrustedStaleStateNeverAnswers(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, _, id := staleWorld(t, e)
		var balance, version int64
		out := mustRun(t, p, "Peek", peek(id, &balance, &version))
		if balance != 110 || version != 2 || out.Attempts != 2 {
			t.Fatalf("peek saw %d at %d after %d attempts, want 110 at 2 after 2", balance, version, out.Attempts)
		}
	})
}

// A retry with the same key is answered from the record, even when its
// first attempt decided on a stale cached state.
func TestTrustedStaleStateStillReplays(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, _, id := staleWorld(t, e)
		req := &command.Request{Name: "Withdraw", IdempotencyKey: newID(), Fingerprint: "f", Handle: withdraw(id, 100)}
		first := mustRunReq(t, p, req)
		again := mustRunReq(t, p, req)
		if first.Replayed || !again.Replayed || string(again.Result.Body) != `{"balance":10}` {
			t.Fatalf("first %+v, again %+v (%s): want one application and a replay of balance 10", first, again, again.Result.Body)
		}
		if got := e.balance(t, id); got != 10 {
			t.Fatalf("balance %d, want 10", got)
		}
	})
}

func mustRunReq(t *testing.T, p *command.Pipeline, req *command.Request) *command.Outcome {
	t.Helper()
	out, err := p.Run(context.Background(), req)
	if err != nil {
		t.Fatalf("%s: %v", req.Name, err)
	}
	return out
}
