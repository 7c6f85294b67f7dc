// Package demo fills a Bluepoint installation with a year of realistic
// activity, so that a person trying the platform finds accounts of every
// kind, balances, sales, donations and an event log worth searching instead
// of empty lists.
//
// It drives the service's use cases exactly as the API does, so every
// invariant the service enforces holds for the demo data too. What it does
// is planned from a seed, on a simulated clock running over the year before
// the load; the load itself takes seconds. Every demo account signs in with
// the one password Password.
package demo

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/service"
)

// Password is the password of every demo account, staff included. It is
// published on purpose: demo data is for trying the platform, never for an
// installation that holds real people.
const Password = "bluepoint-demo"

// EmailDomain is the domain of every demo account's email.
const EmailDomain = "demo.bluepoint.localhost"

// The demo's own staff account verifies accounts and changes a rule. Its
// email marks that a load has started.
const staffEmail = "staff@" + EmailDomain

// The last command of a load opens this account, so its email marks a
// load that finished.
const markerEmail = "newcomer@" + EmailDomain

// Defaults of Params.
const (
	DefaultAccounts     = 500
	DefaultTransactions = 10_000
	DefaultSpan         = 365 * 24 * time.Hour
)

// ErrIncomplete reports a store where an earlier load started but did not
// finish: the demo cannot tell what is missing, so it does not go on.
var ErrIncomplete = errors.New("an earlier demo load did not finish (or is still running); load the demo into an empty data directory")

// Params shape a load.
type Params struct {
	// NewService builds the service the demo drives, on the clock it is
	// given, over the store to fill. Required.
	NewService func(now func() time.Time) (*service.Service, error)
	// Accounts is how many accounts of the five kinds to open. Default
	// DefaultAccounts; at least 10, so that every kind has members.
	Accounts int
	// Transactions is how many interactions, donations, giveaways and
	// redemptions to record. Default DefaultTransactions.
	Transactions int
	// Seed makes a load repeatable. Default 1.
	Seed uint64
	// End is when the simulated history ends. Default: when Load starts.
	End time.Time
	// Span is how far the simulated history reaches back from End, whole
	// days. Default DefaultSpan, a year.
	Span time.Duration
	// Workers bounds the commands run at once. Sign-ups hash a password
	// each, so more workers than CPUs gains nothing there. Default
	// runtime.NumCPU().
	Workers int
	// Progress, when set, is called from one goroutine at a time as
	// accounts open and transactions are recorded; total is Accounts +
	// Transactions.
	Progress func(done, total int)
}

// WithDefaults returns the params with every unset field at its default.
func (p Params) WithDefaults() Params {
	if p.Accounts <= 0 {
		p.Accounts = DefaultAccounts
	}
	if p.Transactions <= 0 {
		p.Transactions = DefaultTransactions
	}
	if p.Seed == 0 {
		p.Seed = 1
	}
	if p.End.IsZero() {
		p.End = time.Now()
	}
	if p.Span <= 0 {
		p.Span = DefaultSpan
	}
	if p.Workers <= 0 {
		p.Workers = runtime.NumCPU()
	}
	return p
}

// Validate reports params a load cannot honour.
func (p Params) Validate() error {
	switch {
	case p.NewService == nil:
		return errors.New("demo: a service builder is required")
	case p.Accounts < 10:
		return fmt.Errorf("demo: at least 10 accounts are needed for every kind to have members, not %d", p.Accounts)
	case p.Span < 7*24*time.Hour:
		return fmt.Errorf("demo: the simulated history must span at least a week, not %s", p.Span)
	}
	return nil
}

// Login is an account a person can sign in as, with Password.
type Login struct {
	Kind  account.Kind
	Email string
	Name  string
	// ID is the account's id; empty when an earlier load made the account
	// and it can no longer sign in (someone closed it).
	ID string
}

// Result says what a load did and how to sign in.
type Result struct {
	// Loaded is false when an earlier load had filled the store: nothing
	// was done and only the logins are set.
	Loaded bool
	// Logins holds a staff account and one account of each of the five
	// kinds, each active, in that order.
	Logins []Login
	// Password signs in every login.
	Password string
	// Accounts counts the accounts opened per kind, staff excluded.
	Accounts map[account.Kind]int
	// Transactions counts the transactions recorded per kind
	// ("interaction", "donation", "giveaway", "redemption").
	Transactions map[string]int
	// Refused counts transactions the service refused (they are replaced
	// by others). On a store the demo alone wrote it stays 0.
	Refused int
	// Closed is how many accounts were closed.
	Closed int
	// Products is how many products merchants listed.
	Products int
	// RuleChanges is how many rule changes staff made.
	RuleChanges int
	// From and To bound the simulated history.
	From, To time.Time
}

// TotalAccounts is the number of accounts opened, staff excluded.
func (r Result) TotalAccounts() int {
	n := 0
	for _, c := range r.Accounts {
		n += c
	}
	return n
}

// TotalTransactions is the number of transactions recorded.
func (r Result) TotalTransactions() int {
	n := 0
	for _, c := range r.Transactions {
		n += c
	}
	return n
}

// Load fills the store behind p.NewService with the demo, or, when an
// earlier load did, only returns the logins.
func Load(ctx context.Context, p Params) (Result, error) {
	p = p.WithDefaults()
	if err := p.Validate(); err != nil {
		return Result{}, err
	}
	clk := &clock{}
	clk.set(p.End)
	svc, err := p.NewService(clk.now)
	if err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
	}
	started, err := svc.EmailTaken(ctx, staffEmail)
	if err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
	}
	if started {
		finished, err := svc.EmailTaken(ctx, markerEmail)
		if err != nil {
			return Result{}, fmt.Errorf("demo: %w", err)
		}
		if !finished {
			return Result{}, ErrIncomplete
		}
		return existing(ctx, svc)
	}
	w := newWorld(svc, clk, p)
	if err := w.run(ctx); err != nil {
		return w.res, fmt.Errorf("demo: %w", err)
	}
	return w.res, nil
}

// existing returns the logins of an earlier load, signing in as each to
// find its id.
func existing(ctx context.Context, svc *service.Service) (Result, error) {
	res := Result{Password: Password}
	for _, l := range loginAccounts() {
		actor, err := svc.Authenticate(ctx, l.Email, Password)
		switch {
		case errors.Is(err, service.ErrBadCredentials):
		case err != nil:
			return Result{}, fmt.Errorf("demo: sign in as %s: %w", l.Email, err)
		default:
			l.ID = actor.ID
		}
		res.Logins = append(res.Logins, l)
	}
	return res, nil
}

// loginAccounts are the accounts Result.Logins names: the demo's staff and
// the first account of each kind, which the demo never closes.
func loginAccounts() []Login {
	out := []Login{{Kind: account.Staff, Email: staffEmail, Name: "Dana Whitfield"}}
	for _, k := range account.Kinds {
		out = append(out, Login{Kind: k, Email: string(k) + "@" + EmailDomain, Name: loginNames[k]})
	}
	return out
}

var loginNames = map[account.Kind]string{
	account.Civilian: "Ana Silva",
	account.Officer:  "Sam Okafor",
	account.Merchant: "Corner Café",
	account.Charity:  "Harbour Food Bank",
	account.Family:   "Marta Nowak",
}
