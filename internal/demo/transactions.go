package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/rules"
	"github.com/bluepoint/bluepoint/internal/service"
)

// The kinds of transaction, as Result.Transactions counts them.
const (
	Interaction = "interaction"
	Donation    = "donation"
	Giveaway    = "giveaway"
	Redemption  = "redemption"
)

// pairCap is the default interaction rule's daily cap per pair; the
// planner stays under it rather than have the rule refuse.
const pairCap = 3

// tx is one planned transaction. from pays or, for an interaction, is the
// civilian; to receives or is the officer.
type tx struct {
	kind     string
	from, to *member
	item     *item
	points   int64 // donated or given; for a redemption, the quantity
	note     string
	call     [2]service.Call
}

// txResult is what running a tx changed, applied to the model once the
// batch it ran in is over.
type txResult struct {
	refused     bool
	fromDelta   int64
	toDelta     int64
	fromBalance int64 // a redeemer's balance, read back: the answer has no bonus
}

// transactions records want transactions on day d between 08:00 and
// 20:00, in batches that run at once. The accounts of one batch are all
// different, so its transactions cannot interfere and the model of the
// balances stays exact whatever order they commit in. It returns how many
// it could not place: early in the year few accounts hold points.
func (w *world) transactions(ctx context.Context, d, want int) (int, error) {
	if want <= 0 {
		return want, nil
	}
	size := 8 * w.p.Workers
	batches := (want + size - 1) / size
	for b, done := 0, 0; done < want; b++ {
		batch := w.planBatch(d, min(size, want-done))
		if len(batch) == 0 {
			return want - done, nil
		}
		w.clk.set(w.at(d, 8*time.Hour+12*time.Hour*time.Duration(min(b, batches-1))/time.Duration(batches)))
		results := make([]txResult, len(batch))
		err := together(ctx, len(batch), len(batch), func(ctx context.Context, i int) (err error) {
			results[i], err = w.execute(ctx, batch[i])
			return err
		})
		if err != nil {
			return 0, err
		}
		accepted := 0
		for i, t := range batch {
			if w.apply(d, t, results[i]) {
				accepted++
			}
		}
		if accepted == 0 {
			return want - done, nil
		}
		done += accepted
		w.advance(accepted)
	}
	return 0, nil
}

// planBatch plans up to n transactions between distinct accounts.
func (w *world) planBatch(d, n int) []tx {
	busy := map[*member]bool{}
	var batch []tx
	for tries := 0; len(batch) < n && tries < 10*n; tries++ {
		t, ok := w.plan1(d, busy)
		if !ok {
			continue
		}
		busy[t.from], busy[t.to] = true, true
		t.call[0], t.call[1] = w.call(t.from.actor()), w.call(t.to.actor())
		batch = append(batch, t)
	}
	return batch
}

// plan1 picks a kind of transaction by weight, and falls back to an
// interaction (which needs no points) when no account can afford it.
func (w *world) plan1(d int, busy map[*member]bool) (tx, bool) {
	r := w.rng.IntN(100)
	var t tx
	ok := false
	switch {
	case r < 45:
	case r < 65:
		t, ok = w.planDonation(busy)
	case r < 75:
		t, ok = w.planGiveaway(busy)
	default:
		t, ok = w.planRedemption(busy)
	}
	if !ok {
		t, ok = w.planInteraction(d, busy)
	}
	return t, ok
}

// pick returns a random free member of kind, trying a few.
func (w *world) pick(kind account.Kind, busy map[*member]bool, fit func(*member) bool) (*member, bool) {
	xs := w.active[kind]
	for range 8 {
		if len(xs) == 0 {
			return nil, false
		}
		m := xs[w.rng.IntN(len(xs))]
		if !busy[m] && (fit == nil || fit(m)) {
			return m, true
		}
	}
	return nil, false
}

func (w *world) planInteraction(d int, busy map[*member]bool) (tx, bool) {
	for range 4 {
		civ, ok1 := w.pick(account.Civilian, busy, nil)
		off, ok2 := w.pick(account.Officer, busy, nil)
		if !ok1 || !ok2 {
			return tx{}, false
		}
		if c := w.pairs[[2]*member{civ, off}]; c.day != d || c.n < pairCap {
			return tx{kind: Interaction, from: civ, to: off}, true
		}
	}
	return tx{}, false
}

// donorKinds weighs who donates: mostly civilians; charities pass points
// on to the families they sponsor.
var donorKinds = []account.Kind{account.Civilian, account.Civilian, account.Civilian, account.Civilian,
	account.Civilian, account.Civilian, account.Officer, account.Officer, account.Merchant, account.Charity}

func (w *world) planDonation(busy map[*member]bool) (tx, bool) {
	kind := donorKinds[w.rng.IntN(len(donorKinds))]
	from, ok := w.pick(kind, busy, func(m *member) bool { return m.balance >= 5 })
	if !ok {
		return tx{}, false
	}
	var to *member
	if kind == account.Charity {
		to, ok = w.pickSponsored(from, busy)
	} else {
		to, ok = w.pick([]account.Kind{account.Charity, account.Family}[w.rng.IntN(2)], busy, nil)
	}
	if !ok {
		return tx{}, false
	}
	amounts := []int64{5, 5, 10, 10, 10, 15, 20, 25, 50}
	t := tx{kind: Donation, from: from, to: to, points: min(from.balance, amounts[w.rng.IntN(len(amounts))])}
	if w.rng.IntN(3) == 0 {
		t.note = notes[w.rng.IntN(len(notes))]
	}
	return t, true
}

// pickSponsored returns a free, active family the charity sponsors.
func (w *world) pickSponsored(charity *member, busy map[*member]bool) (*member, bool) {
	if len(charity.sponsors) == 0 {
		return nil, false
	}
	f := charity.sponsors[w.rng.IntN(len(charity.sponsors))]
	return f, f.status == account.Active && !busy[f]
}

func (w *world) planGiveaway(busy map[*member]bool) (tx, bool) {
	from, ok := w.pick(account.Officer, busy, func(m *member) bool { return m.balance >= 2 })
	if !ok {
		return tx{}, false
	}
	to, ok := w.pick(account.Officer, busy, func(m *member) bool { return m != from })
	if !ok {
		return tx{}, false
	}
	return tx{kind: Giveaway, from: from, to: to, points: 1 + w.rng.Int64N(min(from.balance, 20))}, true
}

// redeemerKinds weighs who redeems: civilians, and families spending
// what they were given.
var redeemerKinds = []account.Kind{account.Civilian, account.Civilian, account.Civilian, account.Civilian,
	account.Civilian, account.Civilian, account.Civilian, account.Family, account.Family, account.Officer}

func (w *world) planRedemption(busy map[*member]bool) (tx, bool) {
	who, ok := w.pick(redeemerKinds[w.rng.IntN(len(redeemerKinds))], busy, func(m *member) bool { return m.balance >= 5 })
	if !ok {
		return tx{}, false
	}
	shop, ok := w.pick(account.Merchant, busy, func(m *member) bool { return len(m.items) > 0 })
	if !ok {
		return tx{}, false
	}
	it := shop.items[w.rng.IntN(len(shop.items))]
	qty := int64(1)
	if w.rng.IntN(5) == 0 {
		qty = 2
	}
	if it.stock < qty || it.price*qty > who.balance {
		return tx{}, false
	}
	return tx{kind: Redemption, from: who, to: shop, item: it, points: qty}, true
}

// execute runs one planned transaction. A domain refusal is an outcome:
// on a store other people use, the plan can be out of date.
func (w *world) execute(ctx context.Context, t tx) (txResult, error) {
	res, err := w.run1(ctx, t)
	if domain.As(err) != nil {
		return txResult{refused: true}, nil
	}
	if err != nil {
		return res, fmt.Errorf("%s from %s to %s: %w", t.kind, t.from.email, t.to.email, err)
	}
	return res, nil
}

func (w *world) run1(ctx context.Context, t tx) (txResult, error) {
	switch t.kind {
	case Interaction:
		tok, err := w.svc.RequestEncounter(ctx, t.call[0])
		if err != nil {
			return txResult{}, err
		}
		out, err := w.svc.RecordInteraction(ctx, t.call[1], tok.Token)
		if err != nil {
			return txResult{}, err
		}
		r, err := decode[service.InteractionResult](out)
		return txResult{fromDelta: r.Points[rules.PartyCivilian], toDelta: r.Points[rules.PartyOfficer]}, err
	case Donation, Giveaway:
		var out *command.Outcome
		var err error
		if t.kind == Donation {
			out, err = w.svc.Donate(ctx, t.call[0], t.to.id, t.points, t.note)
		} else {
			out, err = w.svc.Give(ctx, t.call[0], t.to.id, t.points)
		}
		if err != nil {
			return txResult{}, err
		}
		r, err := decode[service.TransferResult](out)
		return txResult{fromDelta: r.Bonus - r.Points, toDelta: r.Points}, err
	case Redemption:
		out, err := w.svc.Redeem(ctx, t.call[0], t.to.id, t.item.sku, t.points, t.item.price)
		if err != nil {
			return txResult{}, err
		}
		r, err := decode[service.RedemptionResult](out)
		if err != nil {
			return txResult{}, err
		}
		redeemer, err := w.svc.Account(ctx, t.from.id)
		return txResult{toDelta: r.Points, fromBalance: redeemer.Balance}, err
	}
	return txResult{}, fmt.Errorf("unknown transaction kind %q", t.kind)
}

// apply brings the model up to date with one transaction's result and
// reports whether it was recorded.
func (w *world) apply(d int, t tx, r txResult) bool {
	if r.refused {
		w.res.Refused++
		return false
	}
	w.res.Transactions[t.kind]++
	t.to.balance += r.toDelta
	switch t.kind {
	case Redemption:
		t.from.balance = r.fromBalance
		t.item.stock -= t.points
	case Interaction:
		key := [2]*member{t.from, t.to}
		c := w.pairs[key]
		if c.day != d {
			c = pairCount{day: d}
		}
		c.n++
		w.pairs[key] = c
		fallthrough
	default:
		t.from.balance += r.fromDelta
	}
	return true
}
