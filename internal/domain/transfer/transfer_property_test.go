package transfer_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/product"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
)

// world is a small platform: accounts, one merchant's products and the
// civilian/officer pairs, by stream id.
type world struct {
	accounts map[string]account.State
	products map[string]product.State
	pairs    map[string]transfer.Pair
}

// members are the account ids of every world; an id outside it ("x-1")
// reaches the not-found rules.
var members = []struct {
	id   string
	kind account.Kind
}{
	{"c-1", account.Civilian}, {"c-2", account.Civilian}, {"o-1", account.Officer}, {"o-2", account.Officer},
	{"o-3", account.Officer}, {"m-1", account.Merchant}, {"ch-1", account.Charity}, {"ch-2", account.Charity},
	{"f-1", account.Family},
}

// newWorld opens every member with a random status and balance and lists
// two products with random stock.
func newWorld(rng *rand.Rand) world {
	w := world{accounts: map[string]account.State{}, products: map[string]product.State{}, pairs: map[string]transfer.Pair{}}
	for _, m := range members {
		status := account.Active
		switch r := rng.IntN(10); {
		case r == 0:
			status = account.Closed
		case r < 3 && m.kind.NeedsVerification():
			status = account.Pending
		}
		balance := int64(0)
		if status != account.Pending {
			balance = rng.Int64N(200)
		}
		w.accounts["account-"+m.id] = acct(m.id, m.kind, status, balance)
	}
	for _, sku := range []string{"A", "B"} {
		w.products[product.StreamID("m-1", sku)] = product.Evolve(product.Initial(), product.ProductListed{
			MerchantID: "m-1", SKU: sku, Name: sku, PricePoints: 1 + rng.Int64N(50), Stock: rng.Int64N(6), ListedAt: t0})
	}
	return w
}

func (w world) account(id string) account.State { return w.accounts["account-"+id] }

// TestTransferInvariants runs random donations, giveaways, redemptions and
// interactions between random members of a small world (some pending, some
// closed, some of the wrong kind) and checks, after every decision:
//
//   - a refused decision is a *domain.Error and appends nothing;
//   - an accepted one never lists a stream twice;
//   - no balance goes negative and no stock goes negative;
//   - closed and pending accounts never change balance;
//   - every account's balance changes by exactly what the record event
//     says (payer -points +bonus, payee +points, interaction awards), so
//     transfers conserve points and the only points created are the bonuses
//     and awards each record carries;
//   - a pair's total counts every interaction recorded for it.
func TestTransferInvariants(t *testing.T) {
	const sequences = 10_000
	rng := rand.New(rand.NewPCG(20260301, 3))
	seen := map[string]int{}
	for seq := range sequences {
		w := newWorld(rng)
		for step := range 1 + rng.IntN(30) {
			name, out, err := randomTransaction(rng, w, t1.Add(time.Duration(step)*time.Minute))
			if err != nil {
				de := domain.As(err)
				if de == nil || len(out.Appends) != 0 {
					t.Fatalf("seq %d step %d: %s refused with %v (%T), appending %d stream(s)", seq, step, name, err, err, len(out.Appends))
				}
				seen[de.Code]++
				continue
			}
			seen[name]++
			checkStep(t, w, out, seq, step)
		}
	}
	for _, outcome := range []string{
		"donation", "giveaway", "redemption", "interaction",
		domain.CodeInvalid, domain.CodeNotFound, domain.CodeConflict, domain.CodeForbidden, domain.CodeInsufficientFunds,
		domain.CodeAccountClosed, domain.CodeAccountPending, product.CodeInsufficientStock, transfer.CodeRuleRefused,
	} {
		if seen[outcome] < 100 {
			t.Errorf("outcome %s reached %d times; the generator no longer exercises it", outcome, seen[outcome])
		}
	}
	t.Logf("outcomes over %d sequences: %v", sequences, seen)
}

// checkStep applies an accepted outcome to w and checks the invariants.
func checkStep(t *testing.T, w world, out transfer.Outcome, seq, step int) {
	t.Helper()
	before := map[string]account.State{}
	for id, s := range w.accounts {
		before[id] = s
	}
	want := map[string]int64{}
	seen := map[string]bool{}
	for _, a := range out.Appends {
		if seen[a.StreamID] {
			t.Fatalf("seq %d step %d: stream %s appended twice", seq, step, a.StreamID)
		}
		seen[a.StreamID] = true
		for _, e := range a.Events {
			switch {
			case strings.HasPrefix(a.StreamID, account.Category+"-"):
				w.accounts[a.StreamID] = account.Evolve(w.accounts[a.StreamID], e)
			case strings.HasPrefix(a.StreamID, product.Category+"-"):
				w.products[a.StreamID] = product.Evolve(w.products[a.StreamID], e)
			case strings.HasPrefix(a.StreamID, transfer.PairCategory+"-"):
				total, today := w.pairs[a.StreamID].Total, w.pairs[a.StreamID].CountOn(t1)
				w.pairs[a.StreamID] = transfer.EvolvePair(w.pairs[a.StreamID], e)
				if p := w.pairs[a.StreamID]; p.Total != total+1 || p.CountOn(t1) != today+1 {
					t.Fatalf("seq %d step %d: pair %s counts %d/%d after %d/%d", seq, step, a.StreamID, p.Total, p.CountOn(t1), total, today)
				}
			}
			switch e := e.(type) {
			case transfer.DonationMade:
				want["account-"+e.From] += e.Bonus - e.Points
				want["account-"+e.To] += e.Points
			case transfer.GiveawayMade:
				want["account-"+e.From] += e.Bonus - e.Points
				want["account-"+e.To] += e.Points
			case transfer.RedemptionMade:
				want["account-"+e.RedeemerID] += e.Bonus - e.Points
				want["account-"+e.MerchantID] += e.Points
			case transfer.InteractionRecorded:
				want["account-"+e.CivilianID] += e.CivilianPoints
				want["account-"+e.OfficerID] += e.OfficerPoints
			}
		}
	}
	for id, s := range w.accounts {
		delta := s.Balance - before[id].Balance
		switch {
		case s.Balance < 0:
			t.Fatalf("seq %d step %d: %s has a negative balance %d", seq, step, id, s.Balance)
		case delta != want[id]:
			t.Fatalf("seq %d step %d: %s changed by %d, the record says %d", seq, step, id, delta, want[id])
		case before[id].Status != account.Active && delta != 0:
			t.Fatalf("seq %d step %d: %s account %s changed balance by %d", seq, step, before[id].Status, id, delta)
		}
	}
	for id, p := range w.products {
		if p.Stock < 0 {
			t.Fatalf("seq %d step %d: %s has negative stock %d", seq, step, id, p.Stock)
		}
	}
}

// pick returns a random member id, sometimes one that does not exist.
func pick(rng *rand.Rand) string {
	if rng.IntN(30) == 0 {
		return "x-1"
	}
	return members[rng.IntN(len(members))].id
}

// randomPricing is mostly an allowed verdict with small awards, sometimes a
// refusal or a malformed award.
func randomPricing(rng *rand.Rand) transfer.Pricing {
	p := transfer.Pricing{RuleVersion: 1 + rng.IntN(3), Allowed: rng.IntN(12) != 0, Reason: "cap reached", Points: map[string]int64{}}
	for _, party := range []string{transfer.PartyDonor, transfer.PartyGiver, transfer.PartyRedeemer, transfer.PartyCivilian, transfer.PartyOfficer} {
		p.Points[party] = rng.Int64N(6)
	}
	if rng.IntN(40) == 0 {
		p.Points[transfer.PartyDonor], p.Points[transfer.PartyCivilian] = -1, -1
	}
	return p
}

// randomTransaction decides one random transaction on w, favouring parties
// of the right kind so that many are accepted.
func randomTransaction(rng *rand.Rand, w world, at time.Time) (string, transfer.Outcome, error) {
	p := randomPricing(rng)
	points := rng.Int64N(120) - 5
	tx := "tx-" + at.Format("150405")
	switch rng.IntN(4) {
	case 0:
		from, to := pick(rng), []string{"ch-1", "ch-2", "f-1", pick(rng)}[rng.IntN(4)]
		out, err := transfer.DecideDonation(w.account(from), w.account(to), transfer.Donate{TxID: tx, From: from, To: to, Points: points, At: at}, p)
		return "donation", out, err
	case 1:
		officers := []string{"o-1", "o-2", "o-3", pick(rng)}
		from, to := officers[rng.IntN(4)], officers[rng.IntN(4)]
		out, err := transfer.DecideGiveaway(w.account(from), w.account(to), transfer.Give{TxID: tx, From: from, To: to, Points: points, At: at}, p)
		return "giveaway", out, err
	case 2:
		redeemer := pick(rng)
		sku := []string{"A", "B", "C"}[rng.IntN(3)]
		prod := w.products[product.StreamID("m-1", sku)]
		cmd := product.Redeem{TxID: tx, RedeemerID: redeemer, Quantity: rng.Int64N(5), Voucher: "VCH-00000001", At: at}
		if rng.IntN(10) == 0 {
			cmd.ExpectedPrice = prod.PricePoints + 1
		}
		out, err := transfer.DecideRedemption(w.account(redeemer), w.account("m-1"), prod, cmd, p)
		return "redemption", out, err
	default:
		civ, off := []string{"c-1", "c-2", pick(rng)}[rng.IntN(3)], []string{"o-1", "o-2", "o-3", pick(rng)}[rng.IntN(4)]
		cmd := transfer.Interact{TxID: tx, CivilianID: civ, OfficerID: off, TokenID: "tok", At: at}
		if rng.IntN(50) == 0 {
			cmd.TokenID = ""
		}
		pair := w.pairs[transfer.PairStreamID(civ, off)]
		out, err := transfer.DecideInteraction(w.account(civ), w.account(off), pair, cmd, p)
		return "interaction", out, err
	}
}
