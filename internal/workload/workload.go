// Package workload drives a Bluepoint service through a random but
// realistic mix of commands: sign-ups of every kind, verifications,
// interactions through encounter tokens, donations, giveaways, products and
// redemptions, closed accounts and erasures. Tests use it to exercise the
// read models at volume; the demo uses it to fill a fresh installation.
package workload

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/service"
)

// Config shapes a run.
type Config struct {
	// Commands is how many commands to run (refused ones count). Default 1000.
	Commands int
	// Seed makes a run repeatable. Default 1.
	Seed uint64
	// Staff is the staff member who verifies accounts. Required.
	Staff service.Actor
	// Progress, when set, is called after each command with the count done.
	Progress func(done int)
	// Tick, when set, is called before each command: a demo advances its
	// clock there to spread the commands over a simulated year.
	Tick func(i int)
}

// Summary counts what a run did.
type Summary struct {
	Commands, Accepted, Refused int
	ByKind                      map[string]int
	Accounts                    []service.Actor
}

type world struct {
	svc       *service.Service
	rng       *rand.Rand
	cfg       Config
	civilians []service.Actor
	officers  []service.Actor
	merchants []service.Actor
	charities []service.Actor
	families  []service.Actor
	products  map[string][]string // merchant id -> skus
	sum       Summary
	n         int
}

// Run runs the workload. Domain refusals (not enough points, a daily cap)
// are normal outcomes and are counted; any other error stops the run.
func Run(ctx context.Context, svc *service.Service, cfg Config) (Summary, error) {
	if cfg.Commands <= 0 {
		cfg.Commands = 1000
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	w := &world{svc: svc, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed)), cfg: cfg,
		products: map[string][]string{}, sum: Summary{ByKind: map[string]int{}}}
	for w.sum.Commands < cfg.Commands {
		if cfg.Tick != nil {
			cfg.Tick(w.sum.Commands)
		}
		kind, err := w.step(ctx)
		if err != nil {
			if domain.As(err) == nil {
				return w.sum, fmt.Errorf("workload command %d (%s): %w", w.sum.Commands, kind, err)
			}
			w.sum.Refused++
		} else {
			w.sum.Accepted++
		}
		w.sum.Commands++
		w.sum.ByKind[kind]++
		if cfg.Progress != nil {
			cfg.Progress(w.sum.Commands)
		}
	}
	return w.sum, nil
}

func (w *world) pick(xs []service.Actor) (service.Actor, bool) {
	if len(xs) == 0 {
		return service.Actor{}, false
	}
	return xs[w.rng.IntN(len(xs))], true
}

// step runs one command chosen by weight; a population too small for the
// chosen command signs someone up instead.
func (w *world) step(ctx context.Context) (string, error) {
	r := w.rng.IntN(100)
	switch {
	case r < 12 || len(w.civilians) < 3 || len(w.officers) < 2:
		return "signup", w.signUp(ctx)
	case r < 50:
		return "interaction", w.interact(ctx)
	case r < 68:
		return "donation", w.donate(ctx)
	case r < 74:
		return "giveaway", w.give(ctx)
	case r < 80:
		return "product", w.list(ctx)
	case r < 95:
		return "redemption", w.redeem(ctx)
	case r < 98:
		return "close", w.closeOne(ctx)
	default:
		return "erase", w.erase(ctx)
	}
}

func (w *world) signUp(ctx context.Context) error {
	w.n++
	kinds := []account.Kind{account.Civilian, account.Civilian, account.Civilian, account.Officer, account.Officer,
		account.Merchant, account.Charity, account.Family}
	kind := kinds[w.rng.IntN(len(kinds))]
	if kind == account.Family && len(w.charities) == 0 {
		kind = account.Charity
	}
	in := service.OpenAccount{Kind: kind, Name: fmt.Sprintf("%s %s", firstNames[w.rng.IntN(len(firstNames))], lastNames[w.rng.IntN(len(lastNames))]),
		Email: fmt.Sprintf("%s%d@example.org", kind, w.n), Password: "workload-password"}
	switch kind {
	case account.Officer:
		in.Profile = account.Profile{BadgeNumber: fmt.Sprintf("B-%05d", w.n), Department: departments[w.rng.IntN(len(departments))]}
	case account.Merchant:
		in.Profile = account.Profile{BusinessName: fmt.Sprintf("Shop %d", w.n), Address: fmt.Sprintf("%d Main Street", w.n)}
	case account.Charity:
		in.Profile = account.Profile{RegistrationNumber: fmt.Sprintf("CH-%05d", w.n)}
	case account.Family:
		sponsor, _ := w.pick(w.charities)
		in.Profile = account.Profile{HouseholdSize: 1 + w.rng.IntN(8), SponsorCharityID: sponsor.ID}
	}
	out, err := w.svc.OpenAccount(ctx, w.call(service.Actor{}), in)
	if err != nil {
		return err
	}
	var ref service.AccountRef
	if err := json.Unmarshal(out.Result.Body, &ref); err != nil {
		return err
	}
	if kind.NeedsVerification() {
		if _, err := w.svc.VerifyAccount(ctx, w.call(w.cfg.Staff), ref.ID); err != nil {
			return err
		}
	}
	a := service.Actor{ID: ref.ID, Kind: kind}
	w.sum.Accounts = append(w.sum.Accounts, a)
	switch kind {
	case account.Civilian:
		w.civilians = append(w.civilians, a)
	case account.Officer:
		w.officers = append(w.officers, a)
	case account.Merchant:
		w.merchants = append(w.merchants, a)
	case account.Charity:
		w.charities = append(w.charities, a)
	case account.Family:
		w.families = append(w.families, a)
	}
	return nil
}

// call gives every command a trace id, as the API does.
func (w *world) call(a service.Actor) service.Call {
	return service.Call{Actor: a, TraceID: fmt.Sprintf("wl-%d-%d", w.cfg.Seed, w.sum.Commands)}
}

func (w *world) interact(ctx context.Context) error {
	civ, _ := w.pick(w.civilians)
	off, _ := w.pick(w.officers)
	tok, err := w.svc.RequestEncounter(ctx, w.call(civ))
	if err != nil {
		return err
	}
	_, err = w.svc.RecordInteraction(ctx, w.call(off), tok.Token)
	return err
}

func (w *world) donate(ctx context.Context) error {
	from, _ := w.pick(append(append([]service.Actor{}, w.civilians...), w.officers...))
	to, ok := w.pick(append(append([]service.Actor{}, w.charities...), w.families...))
	if !ok {
		return w.signUp(ctx)
	}
	_, err := w.svc.Donate(ctx, w.call(from), to.ID, int64(1+w.rng.IntN(30)), "")
	return err
}

func (w *world) give(ctx context.Context) error {
	from, _ := w.pick(w.officers)
	to, _ := w.pick(w.officers)
	_, err := w.svc.Give(ctx, w.call(from), to.ID, int64(1+w.rng.IntN(10)))
	return err
}

func (w *world) list(ctx context.Context) error {
	m, ok := w.pick(w.merchants)
	if !ok {
		return w.signUp(ctx)
	}
	sku := fmt.Sprintf("SKU-%d", len(w.products[m.ID])+1)
	_, err := w.svc.ListProduct(ctx, w.call(m), m.ID, sku, goods[w.rng.IntN(len(goods))], int64(5+w.rng.IntN(40)), int64(w.rng.IntN(50)))
	if err == nil {
		w.products[m.ID] = append(w.products[m.ID], sku)
	}
	return err
}

func (w *world) redeem(ctx context.Context) error {
	m, ok := w.pick(w.merchants)
	if !ok || len(w.products[m.ID]) == 0 {
		return w.list(ctx)
	}
	buyer, _ := w.pick(w.civilians)
	skus := w.products[m.ID]
	_, err := w.svc.Redeem(ctx, w.call(buyer), m.ID, skus[w.rng.IntN(len(skus))], int64(1+w.rng.IntN(3)), 0)
	return err
}

func (w *world) closeOne(ctx context.Context) error {
	a, _ := w.pick(w.civilians)
	_, err := w.svc.CloseAccount(ctx, w.call(a), a.ID, "moving away")
	return err
}

func (w *world) erase(ctx context.Context) error {
	a, _ := w.pick(w.civilians)
	_, err := w.svc.EraseAccount(ctx, w.call(a), a.ID)
	return err
}

var (
	firstNames  = []string{"Ana", "Bruno", "Chloé", "Dmitri", "Emma", "Farah", "Gustavo", "Hana", "Ibrahim", "Jun", "Kofi", "Lucía", "Mateo", "Nadia", "Olu", "Priya"}
	lastNames   = []string{"Silva", "Müller", "Okafor", "Tanaka", "García", "Nowak", "Haddad", "Smith", "Rossi", "Kim", "Dubois", "Pereira"}
	departments = []string{"Central", "North", "Harbour", "Traffic", "Community"}
	goods       = []string{"Coffee", "Cinema ticket", "Book", "Lunch", "Bus pass", "T-shirt", "Groceries", "Haircut"}
)
