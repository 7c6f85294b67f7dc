package command_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// readLog wraps a store and records every stream read, so that a test can
// tell a tail read from a full one.
type readLog struct {
	eventstore.Store
	mu    sync.Mutex
	reads []eventstore.ReadStreamParams
}

func (r *readLog) ReadStream(ctx context.Context, p *eventstore.ReadStreamParams) ([]eventstore.Event, error) {
	r.mu.Lock()
	r.reads = append(r.reads, *p)
	r.mu.Unlock()
	return r.Store.ReadStream(ctx, p)
}

// take returns the reads since the last take.
func (r *readLog) take() []eventstore.ReadStreamParams {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reads
	r.reads = nil
	return out
}

// froms returns the FromVersion of each read since the last take.
func (r *readLog) froms() []int64 {
	var out []int64
	for _, p := range r.take() {
		out = append(out, p.FromVersion)
	}
	return out
}

// logged builds a pipeline over e's store whose reads are recorded.
func logged(t *testing.T, e *env, cfg command.Config) (*command.Pipeline, *readLog) {
	t.Helper()
	log := &readLog{Store: e.store}
	p, err := command.New(log, e.codec, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, log
}

func mustRun(t *testing.T, p *command.Pipeline, name string, h handler) *command.Outcome {
	t.Helper()
	out, err := p.Run(ctxT(t), &command.Request{Name: name, Handle: h})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// peek loads an account and emits nothing, reporting what it saw.
func peek(id string, balance, version *int64) handler {
	return func(ctx context.Context, s *command.Session) (command.Result, error) {
		a, v, err := command.Load(ctx, s, accounts, id)
		*balance, *version = a.Balance, v
		return command.Result{}, err
	}
}

func TestCacheHitReadsOnlyTheTail(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, log := logged(t, e, command.Config{})
		id := newID()
		for range 3 {
			mustRun(t, p, "Deposit", deposit(id, 10))
		}
		// Each deposit reads on from the version the one before it
		// appended: the events an append recorded go into the cache.
		if got := log.froms(); !slices.Equal(got, []int64{1, 2, 3}) {
			t.Fatalf("deposits read from versions %v, want [1 2 3]", got)
		}
		var balance, version int64
		mustRun(t, p, "Peek", peek(id, &balance, &version))
		if balance != 30 || version != 3 {
			t.Fatalf("loaded balance %d at version %d, want 30 at 3", balance, version)
		}
		if got := log.froms(); !slices.Equal(got, []int64{4}) {
			t.Fatalf("peek read from versions %v, want [4]", got)
		}
		mustRun(t, p, "Peek", peek(id, &balance, &version))
		if got := log.froms(); !slices.Equal(got, []int64{4}) || balance != 30 || version != 3 {
			t.Fatalf("second peek read from %v and saw %d at %d, want [4] and 30 at 3", got, balance, version)
		}
	})
}

// TestCurrentReadsThroughTheCache: a state read for display, outside any
// command, shares the commands' cache and sees what they appended.
func TestCurrentReadsThroughTheCache(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, log := logged(t, e, command.Config{})
		id := newID()
		for range 3 {
			mustRun(t, p, "Deposit", deposit(id, 10))
		}
		log.froms()
		a, version, err := command.Current(ctxT(t), p, accounts, id)
		if err != nil || a.Balance != 30 || version != 3 {
			t.Fatalf("Current = %+v at %d, %v; want 30 at 3", a, version, err)
		}
		if got := log.froms(); !slices.Equal(got, []int64{4}) {
			t.Fatalf("Current read from versions %v, want [4]", got)
		}
		mustRun(t, p, "Deposit", deposit(id, 5))
		if a, version, _ = command.Current(ctxT(t), p, accounts, id); a.Balance != 35 || version != 4 {
			t.Fatalf("after another deposit Current = %+v at %d, want 35 at 4", a, version)
		}
	})
}

func TestCacheDisabledReadsWholeStreams(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, log := logged(t, e, command.Config{StateCacheSize: -1})
		id := newID()
		for range 3 {
			mustRun(t, p, "Deposit", deposit(id, 10))
		}
		if got := log.froms(); !slices.Equal(got, []int64{1, 1, 1}) {
			t.Fatalf("deposits read from versions %v, want [1 1 1]", got)
		}
	})
}

// counts is a second aggregate over the bank's streams, with a state type
// of its own.
type counts struct{ Deposits, Withdrawals int }

var accountCounts = command.Aggregate[counts]{
	Category: accounts.Category,
	Evolve: func(c counts, e any) counts {
		switch e.(type) {
		case deposited:
			c.Deposits++
		case withdrawn:
			c.Withdrawals++
		}
		return c
	},
}

func TestSessionReadsAStreamOnce(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, log := logged(t, e, command.Config{})
		id := newID()
		mustRun(t, p, "Deposit", deposit(id, 10))
		mustRun(t, p, "Deposit", deposit(id, 5))
		log.take()
		var first, second account
		var c counts
		var versions [3]int64
		mustRun(t, p, "Twice", func(ctx context.Context, s *command.Session) (command.Result, error) {
			var err error
			if first, versions[0], err = command.Load(ctx, s, accounts, id); err != nil {
				return command.Result{}, err
			}
			first.Balance = -1 // a handler may scribble on its state
			if second, versions[1], err = command.Load(ctx, s, accounts, id); err != nil {
				return command.Result{}, err
			}
			c, versions[2], err = command.Load(ctx, s, accountCounts, id)
			return command.Result{}, err
		})
		reads := log.take()
		if second.Balance != 15 || c != (counts{Deposits: 2}) || versions != [3]int64{2, 2, 2} {
			t.Fatalf("second load %+v, counts %+v, versions %v", second, c, versions)
		}
		// The bank's state comes from the tail after the cached version
		// (the second deposit's append left it at 2); the other aggregate
		// has nothing cached and reads up to the version the session
		// already holds, and no further.
		want := []eventstore.ReadStreamParams{
			{StreamID: accounts.Stream(id), FromVersion: 3},
			{StreamID: accounts.Stream(id), FromVersion: 1, Limit: 2},
		}
		if !slices.Equal(reads, want) {
			t.Fatalf("reads = %+v, want %+v", reads, want)
		}
	})
}

func TestCachedProcessSeesOtherWriters(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		// a and other are two processes on one store, each with its cache.
		a, log := logged(t, e, command.Config{})
		other, err := command.New(e.store, e.codec, command.Config{})
		if err != nil {
			t.Fatal(err)
		}
		id := newID()
		mustRun(t, a, "Deposit", deposit(id, 100)) // a caches version 0
		var balance, version int64
		mustRun(t, a, "Peek", peek(id, &balance, &version)) // and now 1
		mustRun(t, other, "Withdraw", withdraw(id, 60))

		// a's cache says 100, the store 40: the tail read tells a so.
		log.take()
		if _, err := a.Run(ctxT(t), &command.Request{Name: "Withdraw", Handle: withdraw(id, 60)}); !errors.Is(err, errInsufficientFunds) {
			t.Fatalf("withdrawing 60 of 40 through a stale cache: err = %v, want insufficient funds", err)
		}
		if got := log.froms(); !slices.Equal(got, []int64{2}) {
			t.Fatalf("read from versions %v, want [2]", got)
		}

		// The other process withdraws between a's load and a's append: a
		// loses the race, and its retry decides on the fresh events.
		var once sync.Once
		racing := func(ctx context.Context, s *command.Session) (command.Result, error) {
			res, err := withdraw(id, 20)(ctx, s)
			once.Do(func() {
				if _, oerr := other.Run(ctx, &command.Request{Name: "Withdraw", Handle: withdraw(id, 30)}); oerr != nil {
					err = oerr
				}
			})
			return res, err
		}
		_, err = a.Run(ctxT(t), &command.Request{Name: "Withdraw", Handle: racing})
		if !errors.Is(err, errInsufficientFunds) {
			t.Fatalf("withdrawing 20 of the 10 left after the race: err = %v, want insufficient funds", err)
		}
		if got := log.froms(); !slices.Equal(got, []int64{3, 3}) {
			t.Fatalf("the attempts read from versions %v, want [3 3]: the conflict leaves the cache at the version it loaded", got)
		}
		if got := e.balance(t, id); got != 10 {
			t.Fatalf("balance = %d, want 10", got)
		}
	})
}

func TestCacheIsBounded(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, log := logged(t, e, command.Config{StateCacheSize: 2})
		ids := []string{newID(), newID(), newID()}
		for _, id := range ids {
			mustRun(t, p, "Deposit", deposit(id, 1))
			mustRun(t, p, "Deposit", deposit(id, 1))
		}
		log.take()
		var balance, version int64
		// The two most recent are cached; the first was evicted.
		for _, id := range []string{ids[2], ids[1], ids[0]} {
			mustRun(t, p, "Peek", peek(id, &balance, &version))
			if balance != 2 || version != 2 {
				t.Fatalf("loaded %d at version %d, want 2 at 2", balance, version)
			}
		}
		if got := log.froms(); !slices.Equal(got, []int64{3, 3, 1}) {
			t.Fatalf("reads from versions %v, want [3 3 1]", got)
		}
	})
}

// A state the cache must copy: Evolve changes its map in place, the worst
// an Evolve may do, and a handler may too.
type tally struct{ byKind map[string]int64 }

var tallies = command.Aggregate[tally]{
	Category: accounts.Category,
	Initial:  func() tally { return tally{byKind: map[string]int64{}} },
	Evolve: func(t tally, e any) tally {
		switch e := e.(type) {
		case deposited:
			t.byKind["deposited"] += e.Amount
		case withdrawn:
			t.byKind["withdrawn"] += e.Amount
		}
		return t
	},
	Clone: func(t tally) tally {
		m := make(map[string]int64, len(t.byKind))
		for k, v := range t.byKind {
			m[k] = v
		}
		return tally{byKind: m}
	},
}

func TestCachedStatesAreNotShared(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		// Four writers race for one stream: leave them room to lose.
		p, log := logged(t, e, command.Config{MaxRetries: 50})
		id := newID()
		mustRun(t, p, "Deposit", deposit(id, 5))

		// Many sessions load the same cached state at once, and each
		// changes its copy; under -race any sharing shows.
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				h := func(ctx context.Context, s *command.Session) (command.Result, error) {
					st, _, err := command.Load(ctx, s, tallies, id)
					if err != nil {
						return command.Result{}, err
					}
					st.byKind["deposited"] += 1000 // scribbled, never emitted
					if i%2 == 0 {
						s.Emit(accounts.Stream(id), deposited{Amount: 1})
					}
					return command.Result{}, nil
				}
				if _, err := p.Run(ctxT(t), &command.Request{Name: "Tally", Handle: h}); err != nil {
					t.Errorf("tally: %v", err)
				}
			})
		}
		wg.Wait()
		var got tally
		mustRun(t, p, "Read", func(ctx context.Context, s *command.Session) (command.Result, error) {
			var err error
			got, _, err = command.Load(ctx, s, tallies, id)
			return command.Result{}, err
		})
		if got.byKind["deposited"] != 9 {
			t.Fatalf("tally = %v, want deposited 9 (5, then 1 from each of 4 writers)", got.byKind)
		}
		if n := len(log.take()); n == 0 {
			t.Fatal("no reads were recorded")
		}
	})
}

// ledger holds a slice and has no Clone: it cannot be copied safely, so it
// is never cached.
type ledger struct{ amounts []int64 }

var ledgers = command.Aggregate[ledger]{
	Category: accounts.Category,
	Evolve: func(l ledger, e any) ledger {
		if d, ok := e.(deposited); ok {
			l.amounts = append(l.amounts, d.Amount)
		}
		return l
	},
}

func TestStatesThatCannotBeCopiedAreNotCached(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		p, log := logged(t, e, command.Config{})
		id := newID()
		mustRun(t, p, "Deposit", deposit(id, 5))
		log.take()
		for range 2 {
			var got [2]ledger
			mustRun(t, p, "Ledger", func(ctx context.Context, s *command.Session) (command.Result, error) {
				for i := range got {
					l, _, err := command.Load(ctx, s, ledgers, id)
					if err != nil {
						return command.Result{}, err
					}
					got[i] = l
				}
				return command.Result{}, nil
			})
			if !slices.Equal(got[0].amounts, []int64{5}) || !slices.Equal(got[1].amounts, []int64{5}) {
				t.Fatalf("ledgers = %+v", got)
			}
		}
		if got := log.froms(); !slices.Equal(got, []int64{1, 1}) {
			t.Fatalf("reads from versions %v, want [1 1]: one whole read per session", got)
		}
	})
}

func TestCacheAheadOfTheStoreIsDropped(t *testing.T) {
	// A store restored from an older backup: the cache remembers a version
	// the store no longer has. The append refuses, and the retry starts over.
	first, second := openSQLite(t), openSQLite(t)
	c := newBankCodec()
	swap := &swappable{Store: first}
	p, err := command.New(swap, c, command.Config{})
	if err != nil {
		t.Fatal(err)
	}
	id := newID()
	for range 3 {
		mustRun(t, p, "Deposit", deposit(id, 10))
	}
	var balance, version int64
	mustRun(t, p, "Peek", peek(id, &balance, &version)) // cached at 3
	swap.Store = second
	seed, err := command.New(second, c, command.Config{})
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, seed, "Deposit", deposit(id, 7))
	out := mustRun(t, p, "Deposit", deposit(id, 1))
	if out.Attempts != 2 || string(out.Result.Body) != `{"balance":8}` {
		t.Fatalf("outcome %+v (%s), want a second attempt on the store's balance of 7", out, out.Result.Body)
	}
}

// swappable lets a test replace the store under a running pipeline.
type swappable struct{ eventstore.Store }
