package transfer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
)

func TestDonation(t *testing.T) {
	from := acct("c-1", account.Civilian, account.Active, 100)
	to := acct("ch-1", account.Charity, account.Active, 5)
	cmd := transfer.Donate{TxID: "tx-1", From: "c-1", To: "ch-1", Points: 30, Note: " thanks ", At: t1}
	out, err := transfer.DecideDonation(from, to, cmd, pricing(map[string]int64{transfer.PartyDonor: 2, transfer.PartyOfficer: 9}))
	if err != nil {
		t.Fatal(err)
	}
	same(t, out,
		transfer.StreamEvents{StreamID: "account-c-1", Events: []any{
			debit("c-1", 30, 70, "donation", "tx-1", t1), credit("c-1", 2, 72, "donation bonus", "tx-1", t1)}},
		transfer.StreamEvents{StreamID: "account-ch-1", Events: []any{credit("ch-1", 30, 35, "donation", "tx-1", t1)}},
		transfer.StreamEvents{StreamID: "donation-tx-1", Events: []any{transfer.DonationMade{
			TxID: "tx-1", From: "c-1", To: "ch-1", Points: 30, Bonus: 2, RuleVersion: 3, Note: "thanks", DonatedAt: t1}}},
	)

	t.Run("no bonus, to a family, the whole balance", func(t *testing.T) {
		fam := acct("f-1", account.Family, account.Active, 0)
		cmd := transfer.Donate{TxID: "tx-2", From: "c-1", To: "f-1", Points: 100, At: t1}
		out, err := transfer.DecideDonation(from, fam, cmd, pricing(nil))
		if err != nil {
			t.Fatal(err)
		}
		if ev, _ := out.Events("account-c-1"); len(ev) != 1 {
			t.Errorf("donor entries = %d, want the debit only", len(ev))
		}
	})
}

func TestDonationRejects(t *testing.T) {
	civ := acct("c-1", account.Civilian, account.Active, 100)
	charity := acct("ch-1", account.Charity, account.Active, 0)
	ok := transfer.Donate{TxID: "tx-1", From: "c-1", To: "ch-1", Points: 30, At: t1}
	allowed := pricing(map[string]int64{transfer.PartyDonor: 1})
	tests := []struct {
		name     string
		from, to account.State
		change   func(*transfer.Donate)
		p        transfer.Pricing
		code     string
		field    string
	}{
		{"no transaction", civ, charity, func(c *transfer.Donate) { c.TxID = "" }, allowed, domain.CodeInvalid, "tx_id"},
		{"no donor", civ, charity, func(c *transfer.Donate) { c.From = "" }, allowed, domain.CodeInvalid, "from"},
		{"no receiver", civ, charity, func(c *transfer.Donate) { c.To = " " }, allowed, domain.CodeInvalid, "to"},
		{"to itself", civ, civ, func(c *transfer.Donate) { c.To = "c-1" }, allowed, domain.CodeInvalid, "to"},
		{"no points", civ, charity, func(c *transfer.Donate) { c.Points = 0 }, allowed, domain.CodeInvalid, "points"},
		{"too many points", civ, charity, func(c *transfer.Donate) { c.Points = 1_000_001 }, allowed, domain.CodeInvalid, "points"},
		{"note too long", civ, charity, func(c *transfer.Donate) { c.Note = strings.Repeat("n", 281) }, allowed, domain.CodeInvalid, "note"},
		{"note with line break", civ, charity, func(c *transfer.Donate) { c.Note = "a\nb" }, allowed, domain.CodeInvalid, "note"},
		{"no time", civ, charity, func(c *transfer.Donate) { c.At = time.Time{} }, allowed, domain.CodeInvalid, "at"},
		{"unknown donor", account.Initial(), charity, func(*transfer.Donate) {}, allowed, domain.CodeNotFound, "from"},
		{"closed donor", acct("c-1", account.Civilian, account.Closed, 100), charity, func(*transfer.Donate) {}, allowed, domain.CodeAccountClosed, "from"},
		{"pending donor", acct("c-1", account.Officer, account.Pending, 0), charity, func(*transfer.Donate) {}, allowed, domain.CodeAccountPending, "from"},
		{"unknown receiver", civ, account.Initial(), func(*transfer.Donate) {}, allowed, domain.CodeNotFound, "to"},
		{"to a merchant", civ, acct("ch-1", account.Merchant, account.Active, 0), func(*transfer.Donate) {}, allowed, domain.CodeInvalid, "to"},
		{"to a civilian", civ, acct("ch-1", account.Civilian, account.Active, 0), func(*transfer.Donate) {}, allowed, domain.CodeInvalid, "to"},
		{"to a pending charity", civ, acct("ch-1", account.Charity, account.Pending, 0), func(*transfer.Donate) {}, allowed, domain.CodeAccountPending, "to"},
		{"to a closed family", civ, acct("ch-1", account.Family, account.Closed, 0), func(*transfer.Donate) {}, allowed, domain.CodeAccountClosed, "to"},
		{"more than the balance", civ, charity, func(c *transfer.Donate) { c.Points = 101 }, allowed, domain.CodeInsufficientFunds, "points"},
		{"rules refuse", civ, charity, func(*transfer.Donate) {}, refused, transfer.CodeRuleRefused, ""},
		{"no rule version", civ, charity, func(*transfer.Donate) {}, transfer.Pricing{Allowed: true}, domain.CodeInvalid, "pricing.rule_version"},
		{"negative bonus", civ, charity, func(*transfer.Donate) {}, pricing(map[string]int64{"donor": -1}), domain.CodeInvalid, "pricing.points.donor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := ok
			tt.change(&cmd)
			out, err := transfer.DecideDonation(tt.from, tt.to, cmd, tt.p)
			rejected(t, out, err, tt.code, tt.field)
		})
	}
	t.Run("the rules' reason reaches the message", func(t *testing.T) {
		_, err := transfer.DecideDonation(civ, charity, ok, refused)
		if de := domain.As(err); de == nil || !strings.Contains(de.Message, "at most 3 a day") || !strings.Contains(de.Message, "version 3") {
			t.Errorf("error %v does not carry the rule's reason and version", err)
		}
	})
	t.Run("a state of another account is the handler's mistake", func(t *testing.T) {
		_, err := transfer.DecideDonation(acct("c-9", account.Civilian, account.Active, 100), charity, ok, allowed)
		if err == nil || domain.As(err) != nil {
			t.Errorf("error = %v, want a plain error", err)
		}
	})
}

func TestGiveaway(t *testing.T) {
	from := acct("o-1", account.Officer, account.Active, 50)
	to := acct("o-2", account.Officer, account.Active, 0)
	cmd := transfer.Give{TxID: "tx-1", From: "o-1", To: "o-2", Points: 50, At: t2}
	out, err := transfer.DecideGiveaway(from, to, cmd, pricing(map[string]int64{transfer.PartyGiver: 4}))
	if err != nil {
		t.Fatal(err)
	}
	same(t, out,
		transfer.StreamEvents{StreamID: "account-o-1", Events: []any{
			debit("o-1", 50, 0, "giveaway", "tx-1", t2), credit("o-1", 4, 4, "giveaway bonus", "tx-1", t2)}},
		transfer.StreamEvents{StreamID: "account-o-2", Events: []any{credit("o-2", 50, 50, "giveaway", "tx-1", t2)}},
		transfer.StreamEvents{StreamID: "giveaway-tx-1", Events: []any{transfer.GiveawayMade{
			TxID: "tx-1", From: "o-1", To: "o-2", Points: 50, Bonus: 4, RuleVersion: 3, GivenAt: t2}}},
	)
}

func TestGiveawayRejects(t *testing.T) {
	o1 := acct("o-1", account.Officer, account.Active, 50)
	o2 := acct("o-2", account.Officer, account.Active, 0)
	ok := transfer.Give{TxID: "tx-1", From: "o-1", To: "o-2", Points: 10, At: t2}
	allowed := pricing(nil)
	tests := []struct {
		name     string
		from, to account.State
		change   func(*transfer.Give)
		p        transfer.Pricing
		code     string
		field    string
	}{
		{"no transaction", o1, o2, func(c *transfer.Give) { c.TxID = "" }, allowed, domain.CodeInvalid, "tx_id"},
		{"to itself", o1, o1, func(c *transfer.Give) { c.To = "o-1" }, allowed, domain.CodeInvalid, "to"},
		{"negative points", o1, o2, func(c *transfer.Give) { c.Points = -10 }, allowed, domain.CodeInvalid, "points"},
		{"no time", o1, o2, func(c *transfer.Give) { c.At = time.Time{} }, allowed, domain.CodeInvalid, "at"},
		{"from a civilian", acct("o-1", account.Civilian, account.Active, 50), o2, func(*transfer.Give) {}, allowed, domain.CodeInvalid, "from"},
		{"to a charity", o1, acct("o-2", account.Charity, account.Active, 0), func(*transfer.Give) {}, allowed, domain.CodeInvalid, "to"},
		{"from a pending officer", acct("o-1", account.Officer, account.Pending, 0), o2, func(*transfer.Give) {}, allowed, domain.CodeAccountPending, "from"},
		{"to a pending officer", o1, acct("o-2", account.Officer, account.Pending, 0), func(*transfer.Give) {}, allowed, domain.CodeAccountPending, "to"},
		{"to a closed officer", o1, acct("o-2", account.Officer, account.Closed, 0), func(*transfer.Give) {}, allowed, domain.CodeAccountClosed, "to"},
		{"more than the balance", o1, o2, func(c *transfer.Give) { c.Points = 51 }, allowed, domain.CodeInsufficientFunds, "points"},
		{"rules refuse", o1, o2, func(*transfer.Give) {}, refused, transfer.CodeRuleRefused, ""},
		{"bonus too big", o1, o2, func(*transfer.Give) {}, pricing(map[string]int64{"giver": 2_000_000}), domain.CodeInvalid, "pricing.points.giver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := ok
			tt.change(&cmd)
			out, err := transfer.DecideGiveaway(tt.from, tt.to, cmd, tt.p)
			rejected(t, out, err, tt.code, tt.field)
		})
	}
}
