package demo

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/rules"
	"github.com/bluepoint/bluepoint/internal/service"
)

// signUps opens the accounts joining on day d between 07:00 and 07:45:
// charities first, so that families joining the same day find a verified
// sponsor, then everyone else. Staff verifies whoever needs it at 07:50 and
// new merchants list their goods at 07:55, before the day's trade.
func (w *world) signUps(ctx context.Context, d int) error {
	var charities, others []*member
	for _, m := range w.members {
		switch {
		case m.openDay != d:
		case m.kind == account.Charity:
			charities = append(charities, m)
		default:
			others = append(others, m)
		}
	}
	if err := w.openAll(ctx, charities, w.at(d, 7*time.Hour), 15*time.Minute); err != nil {
		return err
	}
	if err := w.verify(ctx, charities); err != nil {
		return err
	}
	for _, m := range others {
		if m.kind == account.Family {
			sponsor := w.active[account.Charity][w.rng.IntN(len(w.active[account.Charity]))]
			m.profile.SponsorCharityID = sponsor.id
			sponsor.sponsors = append(sponsor.sponsors, m)
		}
	}
	if err := w.openAll(ctx, others, w.at(d, 7*time.Hour+15*time.Minute), 30*time.Minute); err != nil {
		return err
	}
	w.clk.set(w.at(d, 7*time.Hour+50*time.Minute))
	if err := w.verify(ctx, others); err != nil {
		return err
	}
	w.clk.set(w.at(d, 7*time.Hour+55*time.Minute))
	var merchants []*member
	for _, m := range others {
		if m.kind == account.Merchant {
			merchants = append(merchants, m)
		}
	}
	return w.listGoods(ctx, merchants)
}

// openAll opens ms in groups that run at once, the clock moving on
// between groups across window from start: hashing a password is the slow
// part of a sign-up, and it uses every CPU this way.
func (w *world) openAll(ctx context.Context, ms []*member, start time.Time, window time.Duration) error {
	size := 2 * w.p.Workers
	groups := (len(ms) + size - 1) / size
	for g := range groups {
		group := ms[g*size : min(len(ms), (g+1)*size)]
		calls := make([]service.Call, len(group))
		for i := range group {
			calls[i] = w.call(service.Actor{})
		}
		w.clk.set(start.Add(window * time.Duration(g) / time.Duration(groups)))
		err := together(ctx, len(group), w.p.Workers, func(ctx context.Context, i int) error {
			return w.openOne(ctx, calls[i], group[i])
		})
		if err != nil {
			return err
		}
		for _, m := range group {
			w.opened(m)
		}
		w.advance(len(group))
	}
	return nil
}

// open opens one account on its own.
func (w *world) open(ctx context.Context, m *member) error {
	if err := w.openOne(ctx, w.call(service.Actor{}), m); err != nil {
		return err
	}
	w.opened(m)
	return nil
}

// openOne signs m up. It runs beside other sign-ups and touches only m.
func (w *world) openOne(ctx context.Context, call service.Call, m *member) error {
	out, err := w.svc.OpenAccount(ctx, call, service.OpenAccount{Kind: m.kind, Name: m.name, Email: m.email,
		Password: Password, Phone: m.phone, Profile: m.profile})
	if err != nil {
		return fmt.Errorf("open the %s account %s: %w", m.kind, m.email, err)
	}
	ref, err := decode[service.AccountRef](out)
	if err != nil {
		return err
	}
	m.id, m.status = ref.ID, ref.Status
	return nil
}

func (w *world) opened(m *member) {
	w.res.Accounts[m.kind]++
	if m.status == account.Active {
		w.activate(m)
	}
}

// verify has staff verify the pending accounts among ms.
func (w *world) verify(ctx context.Context, ms []*member) error {
	var pending []*member
	var jobs []job
	for _, m := range ms {
		if m.status != account.Pending {
			continue
		}
		call := w.call(w.staff)
		pending = append(pending, m)
		jobs = append(jobs, func(ctx context.Context) error {
			if _, err := w.svc.VerifyAccount(ctx, call, m.id); err != nil {
				return fmt.Errorf("verify %s: %w", m.email, err)
			}
			return nil
		})
	}
	if err := w.all(ctx, jobs); err != nil {
		return err
	}
	for _, m := range pending {
		w.activate(m)
	}
	return nil
}

// listGoods puts two to five of the catalogue's goods on each new
// merchant's list.
func (w *world) listGoods(ctx context.Context, merchants []*member) error {
	var jobs []job
	for _, m := range merchants {
		for i, g := range w.rng.Perm(len(goods))[:2+w.rng.IntN(4)] {
			good := goods[g]
			it := &item{merchant: m, sku: fmt.Sprintf("%s-%d", good.code, i+1), name: good.name,
				price: good.low + w.rng.Int64N(good.high-good.low+1), stock: 20 + w.rng.Int64N(130)}
			m.items = append(m.items, it)
			call := w.call(m.actor())
			jobs = append(jobs, func(ctx context.Context) error {
				if _, err := w.svc.ListProduct(ctx, call, m.id, it.sku, it.name, it.price, it.stock); err != nil {
					return fmt.Errorf("list %s of %s: %w", it.sku, m.email, err)
				}
				return nil
			})
		}
	}
	w.res.Products += len(jobs)
	return w.all(ctx, jobs)
}

// restock has merchants refill goods running low, most days.
func (w *world) restock(ctx context.Context) error {
	var jobs []job
	for _, m := range w.active[account.Merchant] {
		for _, it := range m.items {
			if it.stock >= 5 || w.rng.IntN(4) == 0 {
				continue
			}
			qty := 20 + w.rng.Int64N(80)
			call := w.call(m.actor())
			jobs = append(jobs, func(ctx context.Context) error {
				if _, err := w.svc.Restock(ctx, call, m.id, it.sku, qty); err != nil {
					return fmt.Errorf("restock %s of %s: %w", it.sku, m.email, err)
				}
				it.stock += qty // only this job touches the item
				return nil
			})
		}
	}
	return w.all(ctx, jobs)
}

// closeAccounts closes the accounts whose closing day is d. Each closes
// its own account, as people do.
func (w *world) closeAccounts(ctx context.Context, d int) error {
	var closing []*member
	var jobs []job
	for _, m := range w.members {
		if m.closeDay != d || m.status != account.Active {
			continue
		}
		call, reason := w.call(m.actor()), closeReasons[w.rng.IntN(len(closeReasons))]
		closing = append(closing, m)
		jobs = append(jobs, func(ctx context.Context) error {
			if _, err := w.svc.CloseAccount(ctx, call, m.id, reason); err != nil {
				return fmt.Errorf("close %s: %w", m.email, err)
			}
			return nil
		})
	}
	if err := w.all(ctx, jobs); err != nil {
		return err
	}
	for _, m := range closing {
		w.deactivate(m)
		w.res.Closed++
	}
	return nil
}

// changeRule is staff's mid-year campaign: interactions earn more from
// now on, while every earlier one keeps the rule version that priced it.
func (w *world) changeRule(ctx context.Context) error {
	r, err := w.svc.Rule(ctx, rules.KindInteraction)
	if err != nil {
		return err
	}
	points := maps.Clone(r.Points)
	points[rules.PartyCivilian] += 2
	points[rules.PartyOfficer]++
	if _, err := w.svc.ChangeRule(ctx, w.call(w.staff), rules.KindInteraction, points, r.Condition); err != nil {
		return fmt.Errorf("change the interaction rule: %w", err)
	}
	w.res.RuleChanges++
	return nil
}
