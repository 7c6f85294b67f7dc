package command_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/testenv"
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
func trusting(t *testing.T, e *env, cfg ...command.Config) (*command.Pipeline, *watched) {
	t.Helper()
	w := &watched{readLog: &readLog{Store: e.store}}
	w.watching.Store(true)
	p, err := command.New(w, e.codec, append(cfg, command.Config{})[0])
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
func staleWorld(t *testing.T, e *env, cfg ...command.Config) (p *command.Pipeline, w *watched, id string) {
	t.Helper()
	p, w = trusting(t, e, cfg...)
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
// and the command is decided again, at once, on what it reads. That is no
// retry: it counts as none, and happens with retries turned off.
func TestTrustedStaleStateLosesAtTheAppend(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, w, id := staleWorld(t, e, command.Config{MaxRetries: -1})
		out := mustRun(t, p, "Withdraw", withdraw(id, 5))
		if out.Attempts != 1 || string(out.Result.Body) != `{"balance":105}` {
			t.Fatalf("outcome %+v (%s), want one attempt that counts, on the stored balance of 110", out, out.Result.Body)
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
		if out.Attempts != 1 || string(out.Result.Body) != `{"balance":60}` {
			t.Fatalf("outcome %+v (%s), want the balance of 60 decided on the stored state", out, out.Result.Body)
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
		if balance != 110 || version != 2 || out.Attempts != 1 {
			t.Fatalf("peek saw %d at %d after %d attempts, want 110 at 2 after 1", balance, version, out.Attempts)
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

// A retry of a request that applied, whose first attempt decides on a
// stale state and loses at the append, still gets the stored answer.
func TestTrustedStaleRetryReplays(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, _ := trusting(t, e)
		other, err := command.New(e.store, e.codec, command.Config{})
		if err != nil {
			t.Fatal(err)
		}
		id := newID()
		mustRun(t, p, "Deposit", deposit(id, 100))
		req := &command.Request{Name: "Withdraw", IdempotencyKey: newID(), Fingerprint: "f", Handle: withdraw(id, 30)}
		first := mustRunReq(t, p, req)
		mustRun(t, other, "Deposit", deposit(id, 5)) // p's cache is behind now
		again := mustRunReq(t, p, req)
		if first.Replayed || !again.Replayed || string(again.Result.Body) != string(first.Result.Body) {
			t.Fatalf("first %+v, again %+v (%s): want the first answer replayed", first, again, again.Result.Body)
		}
		if got := e.balance(t, id); got != 75 {
			t.Fatalf("balance %d, want 75: the withdrawal applied twice or not at all", got)
		}
	})
}

// Events that will not seal are not the answer either, while the state
// they were decided on is unchecked: the decision on the stored state is.
func TestTrustedStaleStateSealFailure(t *testing.T) {
	var failSeal atomic.Bool
	cfg := command.Config{Seal: func() command.Sealer {
		return command.SealFunc(func(_ context.Context, _ string, ev any) (any, error) {
			if failSeal.Load() {
				return nil, errors.New("subject erased")
			}
			return ev, nil
		})
	}}
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		failSeal.Store(false)
		p, _ := trusting(t, e, cfg)
		other, err := command.New(e.store, e.codec, command.Config{})
		if err != nil {
			t.Fatal(err)
		}
		id := newID()
		mustRun(t, p, "Deposit", deposit(id, 10))
		mustRun(t, other, "Withdraw", withdraw(id, 10)) // p still believes 10
		failSeal.Store(true)
		_, err = p.Run(ctxT(t), &command.Request{Name: "Withdraw", Handle: withdraw(id, 5)})
		if !errors.Is(err, errInsufficientFunds) {
			t.Fatalf("err = %v, want insufficient funds, decided on the stored balance of 0", err)
		}
	})
}

// A claim held by another owner is an answer even on an unchecked state:
// the store checked every version before the claim.
func TestTrustedClaimConflictIsAnAnswer(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, w := trusting(t, e)
		a, b := newID(), newID()
		claim := func(id, value string) handler {
			return func(ctx context.Context, s *command.Session) (command.Result, error) {
				if _, _, err := command.Load(ctx, s, accounts, id); err != nil {
					return command.Result{}, err
				}
				s.Emit(accounts.Stream(id), deposited{Amount: 1})
				s.Claim("email", value, id)
				return command.Result{Status: 201}, nil
			}
		}
		value := "idx-" + a
		mustRun(t, p, "Claim", claim(a, value))
		mustRun(t, p, "Deposit", deposit(b, 1)) // b is cached now
		w.take()
		out, err := p.Run(ctxT(t), &command.Request{Name: "Claim", Handle: claim(b, value)})
		var cce *eventstore.ClaimConflictError
		if !errors.As(err, &cce) || cce.Owner != a || out != nil {
			t.Fatalf("err = %v, want a *ClaimConflictError held by %s", err, a)
		}
		if got := w.froms(); len(got) != 0 {
			t.Fatalf("the refusal read streams from %v, want none: it was decided once", got)
		}
	})
}

// An append drops what the cache holds for the streams it moved and the
// session did not fold: another kind of state over a stream is behind.
func TestRememberDropsOtherKinds(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, w := trusting(t, e)
		id := newID()
		mustRun(t, p, "Deposit", deposit(id, 1))
		var c counts
		countsOf := func(ctx context.Context, s *command.Session) (command.Result, error) {
			var err error
			c, _, err = command.Load(ctx, s, accountCounts, id)
			s.Emit(accounts.Stream(id), deposited{Amount: 1})
			return command.Result{}, err
		}
		mustRun(t, p, "Count", countsOf) // counts cached at 2
		mustRun(t, p, "Deposit", deposit(id, 1))
		w.take()
		mustRun(t, p, "Count", countsOf)
		if c != (counts{Deposits: 3}) {
			t.Fatalf("counts %+v, want 3 deposits", c)
		}
		if got := w.froms(); !slices.Equal(got, []int64{1}) {
			t.Fatalf("counts read from %v, want [1]: the entry the deposit left behind was dropped", got)
		}
	})
}

// heard logs a real store's reads and passes on what it hears of other
// writers.
type heard struct {
	*readLog
	watch eventstore.OtherWriters
}

func (h *heard) OtherWrites() (uint64, bool) { return h.watch.OtherWrites() }

// Two processes on one Postgres: the first decides on its cached states
// without reading until it hears that the other one committed.
func TestTrustFollowsOtherProcesses(t *testing.T) {
	url := testenv.Postgres(t)
	schema := storetest.NewSchema(t, url)
	ctx := ctxT(t)
	if err := postgres.Migrate(ctx, postgres.MigrateParams{URL: url, Schema: schema}); err != nil {
		t.Fatal(err)
	}
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	one, two := open(), open()
	c := newBankCodec()
	log := &heard{readLog: &readLog{Store: one}, watch: one}
	p, err := command.New(log, c, command.Config{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := command.New(two, c, command.Config{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, watching := one.OtherWrites(); !watching; _, watching = one.OtherWrites() {
		if time.Now().After(deadline) {
			t.Fatal("the store never started listening")
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
	id := newID()
	mustRun(t, p, "Deposit", deposit(id, 10))
	mustRun(t, p, "Deposit", deposit(id, 10))
	if got := log.froms(); !slices.Equal(got, []int64{1}) {
		t.Fatalf("the deposits read from %v, want [1]", got)
	}
	before, _ := one.OtherWrites()
	mustRun(t, other, "Withdraw", withdraw(id, 15))
	for n, _ := one.OtherWrites(); n == before; n, _ = one.OtherWrites() {
		if time.Now().After(deadline) {
			t.Fatal("the first process never heard of the second one's commit")
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
	out := mustRun(t, p, "Withdraw", withdraw(id, 5))
	if got := log.froms(); !slices.Equal(got, []int64{3}) || string(out.Result.Body) != `{"balance":0}` {
		t.Fatalf("after the other commit: read from %v, answered %s; want a read from 3 and a balance of 0", got, out.Result.Body)
	}
}

// openNew opens an account under id, taking the stream as new.
func openNew(id string, amount int64) handler {
	return func(ctx context.Context, s *command.Session) (command.Result, error) {
		a, v, err := command.LoadNew(ctx, s, accounts, id)
		if err != nil {
			return command.Result{}, err
		}
		if v != 0 || a.Balance != 0 {
			return command.Result{}, errors.New("the account exists already")
		}
		s.Emit(accounts.Stream(id), deposited{Amount: amount})
		return command.Result{Status: 201}, nil
	}
}

// A stream whose id the command made up is taken as new without a read;
// should it exist after all, the append says so and the command is
// decided again on what it reads.
func TestLoadNewReadsNothing(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, log := logged(t, e, command.Config{})
		id := newID()
		out := mustRun(t, p, "Open", openNew(id, 7))
		if got := log.take(); len(got) != 0 || out.Attempts != 1 {
			t.Fatalf("opening read %+v in %d attempts, want no read in 1", got, out.Attempts)
		}
		if got := e.balance(t, id); got != 7 {
			t.Fatalf("balance %d, want 7", got)
		}
		// The id is taken: the append refuses NoStream, and the decision
		// made again on the stream as read refuses the command.
		if _, err := p.Run(ctxT(t), &command.Request{Name: "Open", Handle: openNew(id, 5)}); err == nil || err.Error() != "Open: the account exists already" {
			t.Fatalf("opening an existing id: %v, want the handler's refusal", err)
		}
		// The first open's append left the state in the cache at version 1.
		if got := log.froms(); !slices.Equal(got, []int64{2}) {
			t.Fatalf("the second decision read from %v, want [2]", got)
		}
		if got := e.balance(t, id); got != 7 {
			t.Fatalf("balance %d after the refused open, want 7", got)
		}
	})
}

// Latest takes a cached state as it is while no other process is known to
// write, and reads once one is.
func TestLatestReadsOnlyAfterOtherWrites(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, w := trusting(t, e)
		id := newID()
		mustRun(t, p, "Deposit", deposit(id, 10))
		w.take()
		for range 3 {
			if a, v, err := command.Latest(ctxT(t), p, accounts, id); err != nil || a.Balance != 10 || v != 1 {
				t.Fatalf("Latest = %+v at %d, %v; want 10 at 1", a, v, err)
			}
		}
		if got := w.take(); len(got) != 0 {
			t.Fatalf("Latest read %+v, want nothing", got)
		}
		other, err := command.New(e.store, e.codec, command.Config{})
		if err != nil {
			t.Fatal(err)
		}
		mustRun(t, other, "Deposit", deposit(id, 5))
		w.count.Add(1) // news of it
		if a, v, err := command.Latest(ctxT(t), p, accounts, id); err != nil || a.Balance != 15 || v != 2 {
			t.Fatalf("after the news, Latest = %+v at %d, %v; want 15 at 2", a, v, err)
		}
		if got := w.froms(); !slices.Equal(got, []int64{2}) {
			t.Fatalf("after the news Latest read from %v, want [2]", got)
		}
	})
}
