package users_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/projection/projectiontest"
	"github.com/bluepoint/bluepoint/internal/readmodel/users"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/service/servicetest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// clock is the service's settable time source: the test knows the time of
// everything it does.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// tick moves the clock a minute on and returns the new time.
func (c *clock) tick() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Minute)
	return c.t
}

// env is a real service on an event store, and a read database with the
// users projection registered (not yet built).
type env struct {
	store  eventstore.Store
	svc    *service.Service
	clock  *clock
	staff  service.Actor
	db     *projection.DB
	runner *projection.Runner
}

// forEachDB runs fn on SQLite and, when configured, on Postgres.
func forEachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	projectiontest.ForEachEngine(t, func(t *testing.T, st eventstore.Store, db *projection.DB) {
		fn(t, newEnv(t, st, db))
	})
}

func newEnv(t *testing.T, st eventstore.Store, db *projection.DB) *env {
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	svc := servicetest.New(t, st, clk.Now)
	staff := servicetest.Staff(t, svc, "Operator One", "ops@example.org")
	r, err := projection.New(ctxT(t), projection.Config{DB: db, Store: st, Projections: []projection.Projection{users.Projection{}}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{store: st, svc: svc, clock: clk, db: db, runner: r,
		staff: staff}
}

func body[T any](t *testing.T, out *command.Outcome) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(out.Result.Body, &v); err != nil {
		t.Fatalf("decode %s: %v", out.Result.Body, err)
	}
	return v
}

// must fails the test on a command's error: must(t)(svc.Command(...)).
func must(t *testing.T) func(*command.Outcome, error) *command.Outcome {
	return func(out *command.Outcome, err error) *command.Outcome {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// person is what the test knows of an account it opened.
type person struct {
	actor    service.Actor
	in       service.OpenAccount
	openedAt time.Time
	verified time.Time
	balance  int64
}

// world is what the test did, kept independently of any read model.
type world struct {
	people map[string]*person
	txs    []users.Transaction // in the order they were made
	erased map[string]bool
}

func (e *env) open(t *testing.T, w *world, kind account.Kind, name, email, phone string, p account.Profile) *person {
	t.Helper()
	in := service.OpenAccount{Kind: kind, Name: name, Email: email, Password: "s3cret-enough", Phone: phone, Profile: p}
	at := e.clock.tick()
	ref := body[service.AccountRef](t, must(t)(e.svc.OpenAccount(ctxT(t), service.Call{}, in)))
	pe := &person{actor: service.Actor{ID: ref.ID, Kind: kind}, in: in, openedAt: at}
	if kind.NeedsVerification() {
		pe.verified = e.clock.tick()
		must(t)(e.svc.VerifyAccount(ctxT(t), service.Call{Actor: e.staff}, ref.ID))
	}
	w.people[ref.ID] = pe
	return pe
}

func (e *env) interact(t *testing.T, w *world, civ, off *person) {
	t.Helper()
	tok, err := e.svc.RequestEncounter(ctxT(t), service.Call{Actor: civ.actor})
	if err != nil {
		t.Fatal(err)
	}
	at := e.clock.tick()
	r := body[service.InteractionResult](t, must(t)(e.svc.RecordInteraction(ctxT(t), service.Call{Actor: off.actor}, tok.Token)))
	civ.balance += r.Points["civilian"]
	off.balance += r.Points["officer"]
	w.txs = append(w.txs, users.Transaction{ID: r.ID, Kind: users.KindInteraction, FromID: civ.actor.ID, ToID: off.actor.ID,
		Points: r.Points["civilian"], Bonus: r.Points["officer"], RuleVersion: r.RuleVersion, At: at})
}

// transfer donates (note set or kind donation) or gives points.
func (e *env) transfer(t *testing.T, w *world, kind string, from, to *person, points int64, note string) {
	t.Helper()
	at := e.clock.tick()
	call := service.Call{Actor: from.actor}
	var out *command.Outcome
	var err error
	if kind == users.KindDonation {
		out, err = e.svc.Donate(ctxT(t), call, to.actor.ID, points, note)
	} else {
		out, err = e.svc.Give(ctxT(t), call, to.actor.ID, points)
	}
	r := body[service.TransferResult](t, must(t)(out, err))
	from.balance += r.Bonus - points
	to.balance += points
	w.txs = append(w.txs, users.Transaction{ID: r.ID, Kind: kind, FromID: from.actor.ID, ToID: to.actor.ID,
		Points: points, Bonus: r.Bonus, RuleVersion: r.RuleVersion, At: at, Note: note})
}

// redeem buys quantity units at price; the default redemption rule pays
// no bonus.
func (e *env) redeem(t *testing.T, w *world, who, merchant *person, sku string, quantity, price int64) {
	t.Helper()
	at := e.clock.tick()
	r := body[service.RedemptionResult](t, must(t)(e.svc.Redeem(ctxT(t), service.Call{Actor: who.actor}, merchant.actor.ID, sku, quantity, price)))
	who.balance -= quantity * price
	merchant.balance += quantity * price
	w.txs = append(w.txs, users.Transaction{ID: r.ID, Kind: users.KindRedemption, FromID: who.actor.ID, ToID: merchant.actor.ID,
		Points: quantity * price, MerchantID: merchant.actor.ID, SKU: sku, Quantity: quantity, RuleVersion: r.RuleVersion, At: at})
}

// cast is the story's accounts.
type cast struct {
	civ, civ2, off1, off2, off3, charity, family, merchant *person
}

// story drives the service through the users domain: interactions,
// donations to a verified charity and family, a giveaway, a merchant's
// products and redemptions, and one erasure.
func (e *env) story(t *testing.T) (*world, cast) {
	w := &world{people: map[string]*person{}, erased: map[string]bool{}}
	var c cast
	// Generous interactions without the daily cap, priced by version 2.
	must(t)(e.svc.ChangeRule(ctxT(t), service.Call{Actor: e.staff}, "interaction", map[string]int64{"civilian": 20, "officer": 5}, ""))
	c.civ = e.open(t, w, account.Civilian, "Carla Civil", "carla@example.org", "+34600000001", account.Profile{})
	c.civ2 = e.open(t, w, account.Civilian, "Diego Dos", "diego@example.org", "", account.Profile{})
	c.off1 = e.open(t, w, account.Officer, "Olga One", "olga@example.org", "", account.Profile{BadgeNumber: "B-1", Department: "Central"})
	c.off2 = e.open(t, w, account.Officer, "Oscar Two", "oscar@example.org", "+34600000002", account.Profile{BadgeNumber: "B-2", Department: "North"})
	c.off3 = e.open(t, w, account.Officer, "Otto Three", "otto@example.org", "", account.Profile{BadgeNumber: "B-3", Department: "South"})
	e.interact(t, w, c.civ, c.off1)
	e.interact(t, w, c.civ, c.off2)
	e.interact(t, w, c.civ, c.off1)
	e.interact(t, w, c.civ2, c.off3)
	c.charity = e.open(t, w, account.Charity, "Food Bank", "bank@example.org", "", account.Profile{RegistrationNumber: "CH-7"})
	c.family = e.open(t, w, account.Family, "The Garcias", "garcia@example.org", "", account.Profile{HouseholdSize: 4, SponsorCharityID: c.charity.actor.ID})
	e.transfer(t, w, users.KindDonation, c.civ, c.family, 15, "for the kids")
	e.transfer(t, w, users.KindDonation, c.civ, c.family, 5, "")
	e.transfer(t, w, users.KindDonation, c.off1, c.family, 3, "")
	e.transfer(t, w, users.KindDonation, c.civ, c.charity, 2, "")
	e.transfer(t, w, users.KindGiveaway, c.off2, c.off3, 2, "")
	c.merchant = e.open(t, w, account.Merchant, "Maria Shop", "shop@example.org", "", account.Profile{BusinessName: "Corner Shop", Address: "1 Main St"})
	me := service.Call{Actor: c.merchant.actor}
	mid := c.merchant.actor.ID
	must(t)(e.svc.ListProduct(ctxT(t), me, mid, "MUG-1", "Mug", 7, 5))
	must(t)(e.svc.ListProduct(ctxT(t), me, mid, "TEA-1", "Tea", 3, 10))
	must(t)(e.svc.ListProduct(ctxT(t), me, mid, "SOAP-1", "Soap", 2, 4))
	e.redeem(t, w, c.civ, c.merchant, "MUG-1", 1, 7)
	e.redeem(t, w, c.civ, c.merchant, "TEA-1", 2, 3)
	e.clock.tick()
	must(t)(e.svc.EraseAccount(ctxT(t), service.Call{Actor: e.staff}, c.off2.actor.ID))
	w.erased[c.off2.actor.ID] = true
	return w, c
}
