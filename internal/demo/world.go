package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/service"
)

// member is one demo account: what the plan decided about it, and the
// demo's own model of its state, kept so that the transactions it plans
// are ones the service accepts.
type member struct {
	kind     account.Kind
	name     string
	email    string
	phone    string
	profile  account.Profile
	openDay  int
	closeDay int // -1: stays open
	// login marks the account Result.Logins names for its kind.
	login bool
	// sponsors are the families a charity sponsors.
	sponsors []*member

	id      string
	status  account.Status
	balance int64
	items   []*item
}

func (m *member) actor() service.Actor { return service.Actor{ID: m.id, Kind: m.kind} }

// item is a product a merchant lists.
type item struct {
	merchant *member
	sku      string
	name     string
	price    int64
	stock    int64
}

// world is one load in progress. Only the goroutine running run touches
// it; the commands it runs at once report back through return values.
type world struct {
	svc   *service.Service
	clk   *clock
	p     Params
	rng   *rand.Rand
	start time.Time // midnight UTC of the first simulated day
	days  int

	members []*member
	marker  *member
	// active lists the accounts that may transact, per kind, in the
	// order they became active, so that picks are repeatable.
	active map[account.Kind][]*member
	staff  service.Actor
	quota  []int // transactions planned per day
	pairs  map[[2]*member]pairCount
	calls  int

	res  Result
	done int
}

// pairCount is a civilian/officer pair's interactions on one day, for the
// daily cap the interaction rule sets.
type pairCount struct{ day, n int }

func newWorld(svc *service.Service, clk *clock, p Params) *world {
	days := int(p.Span / (24 * time.Hour))
	end := p.End.UTC()
	start := end.Truncate(24*time.Hour).AddDate(0, 0, -days)
	return &world{svc: svc, clk: clk, p: p, days: days, start: start,
		rng:    rand.New(rand.NewPCG(p.Seed, p.Seed^0xdec0de)),
		active: map[account.Kind][]*member{}, pairs: map[[2]*member]pairCount{},
		res: Result{Loaded: true, Password: Password, Accounts: map[account.Kind]int{},
			Transactions: map[string]int{}, From: start, To: end}}
}

// run plays the simulated year day by day, then opens the marker account.
func (w *world) run(ctx context.Context) error {
	w.plan()
	w.clk.set(w.at(0, 6*time.Hour))
	out, err := w.svc.CreateStaff(ctx, "Dana Whitfield", staffEmail, Password)
	if err != nil {
		return fmt.Errorf("create the demo's staff account: %w", err)
	}
	ref, err := decode[service.AccountRef](out)
	if err != nil {
		return err
	}
	w.staff = service.Actor{ID: ref.ID, Kind: account.Staff}
	carry := 0
	for d := range w.days {
		left, err := w.day(ctx, d, w.quota[d]+carry)
		if err != nil {
			return fmt.Errorf("simulated day %s: %w", w.at(d, 0).Format(time.DateOnly), err)
		}
		carry = left
	}
	if carry > 0 {
		return fmt.Errorf("%d transactions could not be placed in the simulated year", carry)
	}
	w.clk.set(w.p.End)
	if err := w.open(ctx, w.marker); err != nil {
		return err
	}
	w.advance(1)
	w.res.Logins = w.logins()
	return nil
}

// day runs one simulated day: closures and rule changes early, then
// sign-ups, verifications and new products, then the day's transactions
// between 08:00 and 20:00, then restocks. It returns how many of want it
// could not place.
func (w *world) day(ctx context.Context, d, want int) (int, error) {
	w.clk.set(w.at(d, 6*time.Hour))
	if err := w.closeAccounts(ctx, d); err != nil {
		return 0, err
	}
	if d == w.days/2 {
		w.clk.set(w.at(d, 6*time.Hour+30*time.Minute))
		if err := w.changeRule(ctx); err != nil {
			return 0, err
		}
	}
	if err := w.signUps(ctx, d); err != nil {
		return 0, err
	}
	left, err := w.transactions(ctx, d, want)
	if err != nil {
		return 0, err
	}
	w.clk.set(w.at(d, 21*time.Hour))
	return left, w.restock(ctx)
}

// at is a time of day d.
func (w *world) at(d int, offset time.Duration) time.Time {
	return w.start.AddDate(0, 0, d).Add(offset)
}

// call gives every command a trace id, as the API does, so a demo
// command's timeline can be looked up like any other.
func (w *world) call(a service.Actor) service.Call {
	w.calls++
	return service.Call{Actor: a, TraceID: fmt.Sprintf("demo-%d-%d", w.p.Seed, w.calls)}
}

func (w *world) advance(n int) {
	w.done += n
	if w.p.Progress != nil {
		w.p.Progress(w.done, w.p.Accounts+w.p.Transactions)
	}
}

func (w *world) activate(m *member) {
	m.status = account.Active
	w.active[m.kind] = append(w.active[m.kind], m)
}

func (w *world) deactivate(m *member) {
	m.status = account.Closed
	w.active[m.kind] = slices.DeleteFunc(w.active[m.kind], func(x *member) bool { return x == m })
}

func (w *world) logins() []Login {
	out := loginAccounts()
	out[0].ID = w.staff.ID
	for i, k := range account.Kinds {
		for _, m := range w.members {
			if m.login && m.kind == k {
				out[i+1].ID = m.id
			}
		}
	}
	return out
}

// job is one command of a step whose commands run at once. Each touches
// accounts and products of its own, so they cannot conflict, and the model
// is brought up to date once all succeeded.
type job func(ctx context.Context) error

// all runs jobs at once: a step costs one round trip to the store rather
// than one per command.
func (w *world) all(ctx context.Context, jobs []job) error {
	return together(ctx, len(jobs), 8*w.p.Workers, func(ctx context.Context, i int) error { return jobs[i](ctx) })
}

// together runs fn for 0..n-1 at once, at most limit at a time, and
// returns the first error; the others are cancelled.
func together(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, limit)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(ctx, i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// decode reads a command's JSON answer.
func decode[T any](out *command.Outcome) (T, error) {
	var v T
	if err := json.Unmarshal(out.Result.Body, &v); err != nil {
		return v, fmt.Errorf("read the service's answer: %w", err)
	}
	return v, nil
}
