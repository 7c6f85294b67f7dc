package demo_test

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/auth/password"
	"github.com/bluepoint/bluepoint/internal/demo"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/product"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/service/servicetest"
)

// builder returns a NewService over store with fixed keys, so that every
// service it builds belongs to one installation, and cheap password
// hashing.
func builder(t *testing.T, store eventstore.Store) func(func() time.Time) (*service.Service, error) {
	t.Helper()
	master, err := pii.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	_, signing, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return func(now func() time.Time) (*service.Service, error) {
		return service.New(service.Config{Store: store, Master: master, EncounterKey: signing, Now: now,
			Hasher: password.NewHasher(servicetest.FastHashes, 0)})
	}
}

// sameAsStandardLibrary holds the codec's decoder, a faster drop-in for
// encoding/json, to encoding/json's value for e: the demo writes every
// kind of event, each at its current schema version.
func sameAsStandardLibrary(t *testing.T, e eventstore.Event, decoded any) {
	t.Helper()
	std := reflect.New(reflect.TypeOf(decoded))
	if err := json.Unmarshal(e.Data, std.Interface()); err != nil {
		t.Fatalf("encoding/json refuses %s %s: %v", e.Type, e.Data, err)
	}
	if !reflect.DeepEqual(std.Elem().Interface(), decoded) {
		t.Fatalf("%s %s decodes as %+v, encoding/json as %+v", e.Type, e.Data, decoded, std.Elem().Interface())
	}
}

// ledger is what the store holds after a load, read back event by event.
type ledger struct {
	events       int
	opened       map[account.Kind]int
	closed       int
	transactions map[string]int
	// created is the points the rules created: interaction points and
	// bonuses. Transfers only move points, so the balances add up to it.
	created  int64
	balances map[string]int64
	negative int
	// first and last are the earliest and latest times the events record.
	first, last  time.Time
	ruleVersions map[int]int
	redeemed     int64 // units sold
}

func (l *ledger) seen(t time.Time) {
	if l.first.IsZero() || t.Before(l.first) {
		l.first = t
	}
	if t.After(l.last) {
		l.last = t
	}
}

func (l *ledger) balance(id string, b int64) {
	l.balances[id] = b
	if b < 0 {
		l.negative++
	}
}

func readLedger(t *testing.T, store eventstore.Store, svc *service.Service) ledger {
	t.Helper()
	l := ledger{opened: map[account.Kind]int{}, transactions: map[string]int{}, balances: map[string]int64{},
		ruleVersions: map[int]int{}}
	after := eventstore.Start
	for {
		batch, err := store.ReadAll(t.Context(), &eventstore.ReadAllParams{After: after, Limit: 2000})
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			return l
		}
		for _, e := range batch {
			after = e.Position
			l.events++
			ev, err := svc.Codec().Decode(e)
			if err != nil {
				t.Fatalf("decode %s: %v", e.Type, err)
			}
			sameAsStandardLibrary(t, e, ev)
			switch ev := ev.(type) {
			case account.AccountOpened:
				l.seen(ev.OpenedAt)
				if ev.Kind != account.Staff {
					l.opened[ev.Kind]++
				}
			case account.AccountClosed:
				l.seen(ev.ClosedAt)
				l.closed++
			case account.PointsCredited:
				l.balance(ev.AccountID, ev.Balance)
			case account.PointsDebited:
				l.balance(ev.AccountID, ev.Balance)
			case transfer.InteractionRecorded:
				l.seen(ev.RecordedAt)
				l.transactions[demo.Interaction]++
				l.created += ev.CivilianPoints + ev.OfficerPoints
				l.ruleVersions[ev.RuleVersion]++
			case transfer.DonationMade:
				l.seen(ev.DonatedAt)
				l.transactions[demo.Donation]++
				l.created += ev.Bonus
			case transfer.GiveawayMade:
				l.seen(ev.GivenAt)
				l.transactions[demo.Giveaway]++
				l.created += ev.Bonus
			case transfer.RedemptionMade:
				l.seen(ev.RedeemedAt)
				l.transactions[demo.Redemption]++
				l.created += ev.Bonus
			case product.ProductRedeemed:
				l.redeemed += ev.Quantity
			}
		}
	}
}

func (l ledger) sum() int64 {
	var n int64
	for _, b := range l.balances {
		n += b
	}
	return n
}

// TestLoad runs a load with every account of the full size, over the full
// year, and a seventh of its transactions (the full load takes minutes),
// then checks what the store holds, not what Load says it did.
func TestLoad(t *testing.T) {
	const txs = 1500
	store := storetest.OpenSQLite(t, storetest.Options{})
	newService := builder(t, store)
	calls, lastDone, lastTotal := 0, 0, 0
	start := time.Now()
	p := demo.Params{NewService: newService, Transactions: txs, Progress: func(done, total int) {
		if done < lastDone {
			t.Errorf("progress went back from %d to %d", lastDone, done)
		}
		calls, lastDone, lastTotal = calls+1, done, total
	}}
	res, err := demo.Load(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded in %s: %d accounts, %v, %d closed, %d products", time.Since(start), res.TotalAccounts(), res.Transactions, res.Closed, res.Products)
	if calls < 10 || lastDone != lastTotal || lastTotal != demo.DefaultAccounts+txs {
		t.Errorf("progress: %d calls, last %d/%d, want it to end at %d", calls, lastDone, lastTotal, demo.DefaultAccounts+txs)
	}
	svc, err := newService(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	l := readLedger(t, store, svc)

	total := 0
	for _, k := range account.Kinds {
		if l.opened[k] == 0 || l.opened[k] != res.Accounts[k] {
			t.Errorf("%s accounts: %d in the store, %d reported", k, l.opened[k], res.Accounts[k])
		}
		total += l.opened[k]
	}
	if total < demo.DefaultAccounts {
		t.Errorf("%d accounts, want at least %d", total, demo.DefaultAccounts)
	}
	n := 0
	for _, k := range []string{demo.Interaction, demo.Donation, demo.Giveaway, demo.Redemption} {
		if l.transactions[k] == 0 || l.transactions[k] != res.Transactions[k] {
			t.Errorf("%s: %d in the store, %d reported", k, l.transactions[k], res.Transactions[k])
		}
		n += l.transactions[k]
	}
	if n != txs || res.Refused != 0 {
		t.Errorf("%d transactions, %d refused; want %d and none refused", n, res.Refused, txs)
	}
	if l.closed == 0 || l.closed != res.Closed {
		t.Errorf("%d accounts closed in the store, %d reported; want some", l.closed, res.Closed)
	}
	if len(l.ruleVersions) < 2 || res.RuleChanges != 1 {
		t.Errorf("interactions by rule version %v after %d rule changes; want the change mid-year to show", l.ruleVersions, res.RuleChanges)
	}
	if l.redeemed == 0 {
		t.Error("no goods sold")
	}

	// A year, ending now.
	if span := l.last.Sub(l.first); span < 360*24*time.Hour || span > 367*24*time.Hour {
		t.Errorf("events span %s (%s to %s), want about a year", span, l.first, l.last)
	}
	if l.last.After(time.Now()) || time.Since(l.last) > time.Minute {
		t.Errorf("the latest event is at %s, want it just before now", l.last)
	}

	// Balances never went negative, and transfers conserved points.
	if l.negative > 0 {
		t.Errorf("%d ledger entries left a negative balance", l.negative)
	}
	if l.sum() != l.created || l.created == 0 {
		t.Errorf("balances add up to %d, the rules created %d points", l.sum(), l.created)
	}

	// Every login signs in as its kind.
	if len(res.Logins) != 1+len(account.Kinds) || res.Password != demo.Password {
		t.Fatalf("logins %+v with password %q", res.Logins, res.Password)
	}
	for _, login := range res.Logins {
		actor, err := svc.Authenticate(t.Context(), login.Email, res.Password)
		if err != nil || actor.Kind != login.Kind || actor.ID != login.ID {
			t.Errorf("sign in as %+v: %+v, %v", login, actor, err)
		}
	}

	// A second load changes nothing and prints the same logins.
	again, err := demo.Load(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if again.Loaded || len(again.Logins) != len(res.Logins) {
		t.Fatalf("second load: %+v", again)
	}
	for i := range again.Logins {
		if again.Logins[i] != res.Logins[i] {
			t.Errorf("second load's login %d = %+v, want %+v", i, again.Logins[i], res.Logins[i])
		}
	}
	if l2 := readLedger(t, store, svc); l2.events != l.events {
		t.Errorf("the second load wrote %d events", l2.events-l.events)
	}
}

// One seed tells one story: two loads into two stores agree on everything
// but the ids.
func TestLoadIsRepeatable(t *testing.T) {
	end := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	load := func(store eventstore.Store) demo.Result {
		res, err := demo.Load(t.Context(), demo.Params{NewService: builder(t, store), Accounts: 40, Transactions: 200,
			Seed: 42, End: end, Span: 60 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := load(storetest.OpenSQLite(t, storetest.Options{})), load(storetest.OpenSQLite(t, storetest.Options{}))
	for _, r := range []*demo.Result{&a, &b} {
		for i := range r.Logins {
			r.Logins[i].ID = ""
		}
	}
	if !equalResults(a, b) {
		t.Errorf("seed 42 told two stories:\n%+v\n%+v", a, b)
	}
	if a.TotalTransactions() != 200 || a.TotalAccounts() != 40 || !a.From.Equal(end.Truncate(24*time.Hour).AddDate(0, 0, -60)) {
		t.Errorf("result %+v", a)
	}
}

func equalResults(a, b demo.Result) bool {
	if a.Refused != b.Refused || a.Closed != b.Closed || a.Products != b.Products || !a.From.Equal(b.From) || !a.To.Equal(b.To) {
		return false
	}
	for k, n := range a.Accounts {
		if b.Accounts[k] != n {
			return false
		}
	}
	for k, n := range a.Transactions {
		if b.Transactions[k] != n {
			return false
		}
	}
	for i := range a.Logins {
		if a.Logins[i] != b.Logins[i] {
			return false
		}
	}
	return true
}

// A load that stopped half-way is reported, not continued or repeated.
func TestLoadAfterAnInterruptedLoad(t *testing.T) {
	store := storetest.OpenSQLite(t, storetest.Options{})
	newService := builder(t, store)
	svc, err := newService(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	servicetest.Staff(t, svc, "Dana Whitfield", "staff@"+demo.EmailDomain)
	_, err = demo.Load(t.Context(), demo.Params{NewService: newService, Accounts: 20, Transactions: 50})
	if !errors.Is(err, demo.ErrIncomplete) {
		t.Fatalf("load after an interrupted one: %v, want ErrIncomplete", err)
	}
}

// The demo runs on Postgres as on SQLite (a small load: the point is the
// driver, not the volume).
func TestLoadPostgres(t *testing.T) {
	store := storetest.OpenPostgres(t, storetest.Options{})
	res, err := demo.Load(t.Context(), demo.Params{NewService: builder(t, store), Accounts: 40, Transactions: 300})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := builder(t, store)(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	l := readLedger(t, store, svc)
	if res.TotalTransactions() != 300 || res.Refused != 0 || l.negative > 0 {
		t.Errorf("result %+v, %d negative balances", res, l.negative)
	}
}

func TestParams(t *testing.T) {
	p := demo.Params{}.WithDefaults()
	if p.Accounts < 500 || p.Transactions < 10_000 || p.Span < 365*24*time.Hour || p.Workers < 1 || p.Seed == 0 {
		t.Errorf("defaults %+v: want the full demo, at least 500 accounts and 10,000 transactions over a year", p)
	}
	for _, bad := range []demo.Params{
		{Accounts: 9, Transactions: 10},
		{Accounts: 20, Transactions: 10, Span: 24 * time.Hour},
	} {
		bad.NewService = func(func() time.Time) (*service.Service, error) { return nil, errors.New("not called") }
		if err := bad.WithDefaults().Validate(); err == nil {
			t.Errorf("%+v passed validation", bad)
		}
	}
	if err := (demo.Params{}).WithDefaults().Validate(); err == nil {
		t.Error("params without a service builder passed validation")
	}
}
