package transfer_test

import (
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
)

var (
	t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
	t2 = t0.Add(2 * time.Hour)
)

// profiles holds a valid profile for each kind.
var profiles = map[account.Kind]account.Profile{
	account.Officer:  {BadgeNumber: "B-1", Department: "North"},
	account.Merchant: {BusinessName: "Bakery", Address: "1 High Street"},
	account.Charity:  {RegistrationNumber: "CH-1"},
	account.Family:   {HouseholdSize: 3, SponsorCharityID: "ch-1"},
}

// acct returns the state of account id of kind with status and balance,
// folded from real account events so that it is one account.Decide accepts.
func acct(id string, kind account.Kind, status account.Status, balance int64) account.State {
	s := account.Evolve(account.Initial(), account.AccountOpened{
		AccountID: id, Kind: kind, Status: kind.InitialStatus(), Name: "N " + id,
		Email: id + "@example.org", Profile: profiles[kind], OpenedAt: t0,
	})
	if status != account.Pending && s.Status == account.Pending {
		s = account.Evolve(s, account.AccountVerified{AccountID: id, VerifiedBy: "staff-1", VerifiedAt: t0})
	}
	if balance > 0 {
		s = account.Evolve(s, account.PointsCredited{AccountID: id, Points: balance, Reason: "seed", TxID: "seed", Balance: balance, CreditedAt: t0})
	}
	if status == account.Closed {
		s = account.Evolve(s, account.AccountClosed{AccountID: id, ClosedAt: t0})
	}
	return s
}

// pricing returns an allowed verdict of rule version 3 with the given
// awards.
func pricing(points map[string]int64) transfer.Pricing {
	return transfer.Pricing{RuleVersion: 3, Points: points, Allowed: true}
}

// refused is a verdict of the rules' condition saying no.
var refused = transfer.Pricing{RuleVersion: 3, Allowed: false, Reason: "at most 3 a day"}

// credit and debit return the ledger entries a transaction writes.
func credit(id string, points, balance int64, reason, tx string, at time.Time) account.PointsCredited {
	return account.PointsCredited{AccountID: id, Points: points, Reason: reason, TxID: tx, Balance: balance, CreditedAt: at}
}

func debit(id string, points, balance int64, reason, tx string, at time.Time) account.PointsDebited {
	return account.PointsDebited{AccountID: id, Points: points, Reason: reason, TxID: tx, Balance: balance, DebitedAt: at}
}

// rejected asserts that a decision was refused with a *domain.Error of code
// on field and wrote nothing.
func rejected(t *testing.T, out transfer.Outcome, err error, code, field string) {
	t.Helper()
	if len(out.Appends) != 0 {
		t.Errorf("a refused transaction appends to %d stream(s)", len(out.Appends))
	}
	de := domain.As(err)
	switch {
	case err == nil:
		t.Fatalf("accepted; want a %s error on %q", code, field)
	case de == nil:
		t.Fatalf("error %v (%T) is not a *domain.Error", err, err)
	case de.Code != code || de.Field != field:
		t.Errorf("error = %v; want code %q on field %q", de, code, field)
	case de.Message == "":
		t.Errorf("error %v has no message", de)
	}
}

// same asserts that got appends exactly want, stream by stream.
func same(t *testing.T, got transfer.Outcome, want ...transfer.StreamEvents) {
	t.Helper()
	if len(got.Appends) != len(want) {
		t.Fatalf("appends to %d stream(s), want %d: %+v", len(got.Appends), len(want), got.Appends)
	}
	for i, w := range want {
		g := got.Appends[i]
		if g.StreamID != w.StreamID || len(g.Events) != len(w.Events) {
			t.Errorf("append %d = %s with %d event(s), want %s with %d", i, g.StreamID, len(g.Events), w.StreamID, len(w.Events))
			continue
		}
		for j := range w.Events {
			if g.Events[j] != w.Events[j] {
				t.Errorf("%s event %d:\ngot  %#v\nwant %#v", w.StreamID, j, g.Events[j], w.Events[j])
			}
		}
	}
}

func TestStreamIDs(t *testing.T) {
	for got, want := range map[string]string{
		transfer.DonationStreamID("tx-1"):   "donation-tx-1",
		transfer.GiveawayStreamID("tx-1"):   "giveaway-tx-1",
		transfer.RedemptionStreamID("tx-1"): "redemption-tx-1",
		transfer.PairStreamID("c-1", "o-1"): "acquaintance-c-1_o-1",
	} {
		if got != want {
			t.Errorf("stream id %q, want %q", got, want)
		}
	}
	out := transfer.Outcome{Appends: []transfer.StreamEvents{{StreamID: "a-1"}}}
	if _, ok := out.Events("a-1"); !ok {
		t.Error("Events(a-1) not found")
	}
	if _, ok := out.Events("a-2"); ok {
		t.Error("Events(a-2) found")
	}
}
