package transfer_test

import (
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/domaintest"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
)

var (
	civilian = acct("c-1", account.Civilian, account.Active, 0)
	officer  = acct("o-1", account.Officer, account.Active, 10)
	awards   = pricing(map[string]int64{transfer.PartyCivilian: 10, transfer.PartyOfficer: 5})
)

// pairSpec runs Given/When/Then on the pair stream: Given interactions of
// the pair, When an Interact between the active civilian and officer priced
// by awards, Then the event on the pair stream.
var pairSpec = domaintest.Spec[transfer.Pair]{
	Initial: transfer.InitialPair,
	Evolve:  transfer.EvolvePair,
	Decide: func(p transfer.Pair, cmd any) ([]any, error) {
		out, err := transfer.DecideInteraction(civilian, officer, p, cmd.(transfer.Interact), awards)
		events, _ := out.Events(transfer.PairStreamID("c-1", "o-1"))
		return events, err
	},
}

func interactCmd(at time.Time) transfer.Interact {
	return transfer.Interact{TxID: "tx-1", CivilianID: "c-1", OfficerID: "o-1", TokenID: "tok-1", At: at}
}

func recorded(at time.Time) transfer.InteractionRecorded {
	return transfer.InteractionRecorded{TxID: "tx-1", CivilianID: "c-1", OfficerID: "o-1", TokenID: "tok-1",
		CivilianPoints: 10, OfficerPoints: 5, RuleVersion: 3, RecordedAt: at}
}

func TestInteraction(t *testing.T) {
	pair := pairSpec.Given(t, recorded(t0), recorded(t1)).When(interactCmd(t2)).Then(recorded(t2))
	if pair.Total != 3 || pair.CountOn(t2) != 3 || !pair.LastAt.Equal(t2) {
		t.Errorf("pair = %+v, want 3 interactions today", pair)
	}

	out, err := transfer.DecideInteraction(civilian, officer, transfer.InitialPair(), interactCmd(t1),
		pricing(map[string]int64{transfer.PartyCivilian: 10}))
	if err != nil {
		t.Fatal(err)
	}
	rec := recorded(t1)
	rec.OfficerPoints = 0
	same(t, out,
		transfer.StreamEvents{StreamID: "account-c-1", Events: []any{credit("c-1", 10, 10, "interaction", "tx-1", t1)}},
		transfer.StreamEvents{StreamID: "account-o-1", Events: nil},
		transfer.StreamEvents{StreamID: "acquaintance-c-1_o-1", Events: []any{rec}},
	)
}

func TestInteractionRejects(t *testing.T) {
	tests := []struct {
		name     string
		civ, off account.State
		change   func(*transfer.Interact)
		p        transfer.Pricing
		code     string
		field    string
	}{
		{"no transaction", civilian, officer, func(c *transfer.Interact) { c.TxID = "" }, awards, domain.CodeInvalid, "tx_id"},
		{"no civilian", civilian, officer, func(c *transfer.Interact) { c.CivilianID = "" }, awards, domain.CodeInvalid, "civilian_id"},
		{"no officer", civilian, officer, func(c *transfer.Interact) { c.OfficerID = "" }, awards, domain.CodeInvalid, "officer_id"},
		{"no token", civilian, officer, func(c *transfer.Interact) { c.TokenID = "" }, awards, domain.CodeInvalid, "token_id"},
		{"no time", civilian, officer, func(c *transfer.Interact) { c.At = time.Time{} }, awards, domain.CodeInvalid, "at"},
		{"civilian is a merchant", acct("c-1", account.Merchant, account.Active, 0), officer, func(*transfer.Interact) {}, awards, domain.CodeInvalid, "civilian_id"},
		{"closed civilian", acct("c-1", account.Civilian, account.Closed, 0), officer, func(*transfer.Interact) {}, awards, domain.CodeAccountClosed, "civilian_id"},
		{"unknown civilian", account.Initial(), officer, func(*transfer.Interact) {}, awards, domain.CodeNotFound, "civilian_id"},
		{"officer is a civilian", civilian, acct("o-1", account.Civilian, account.Active, 0), func(*transfer.Interact) {}, awards, domain.CodeInvalid, "officer_id"},
		{"pending officer", civilian, acct("o-1", account.Officer, account.Pending, 0), func(*transfer.Interact) {}, awards, domain.CodeAccountPending, "officer_id"},
		{"closed officer", civilian, acct("o-1", account.Officer, account.Closed, 0), func(*transfer.Interact) {}, awards, domain.CodeAccountClosed, "officer_id"},
		{"rules refuse", civilian, officer, func(*transfer.Interact) {}, refused, transfer.CodeRuleRefused, ""},
		{"negative award", civilian, officer, func(*transfer.Interact) {}, pricing(map[string]int64{"officer": -1}), domain.CodeInvalid, "pricing.points.officer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := interactCmd(t1)
			tt.change(&cmd)
			out, err := transfer.DecideInteraction(tt.civ, tt.off, transfer.InitialPair(), cmd, tt.p)
			rejected(t, out, err, tt.code, tt.field)
		})
	}
	t.Run("a refused interaction leaves the pair as it was", func(t *testing.T) {
		cmd := interactCmd(t1)
		cmd.TokenID = ""
		pairSpec.Given(t, recorded(t0)).When(cmd).ThenError(domain.CodeInvalid, "token_id")
	})
	t.Run("another pair's state is the handler's mistake", func(t *testing.T) {
		other := transfer.EvolvePair(transfer.InitialPair(), transfer.InteractionRecorded{CivilianID: "c-2", OfficerID: "o-1", RecordedAt: t0})
		_, err := transfer.DecideInteraction(civilian, officer, other, interactCmd(t1), awards)
		if err == nil || domain.As(err) != nil {
			t.Errorf("error = %v, want a plain error", err)
		}
	})
}

func TestPairCountOn(t *testing.T) {
	// day(n, h) is h hours after 09:00 UTC on day n, still UTC day n for h < 15.
	day := func(n int, h int) time.Time { return t0.AddDate(0, 0, n).Add(time.Duration(h) * time.Hour) }
	p := transfer.InitialPair()
	if p.Exists() || p.CountOn(t0) != 0 {
		t.Fatalf("a new pair = %+v", p)
	}
	// Two on day 0 (one late in the evening in UTC+2 but still UTC day 0),
	// one a day for days 1..7: day 0 falls out of the seven-day window.
	p = transfer.EvolvePair(p, recorded(day(0, 0)))
	p = transfer.EvolvePair(p, recorded(day(0, 14).In(time.FixedZone("UTC+2", 7200))))
	if got := p.CountOn(day(0, 5)); got != 2 {
		t.Errorf("CountOn(day 0) = %d, want 2", got)
	}
	for n := 1; n <= 7; n++ {
		p = transfer.EvolvePair(p, recorded(day(n, 1)))
	}
	if p.Total != 9 || p.CountOn(day(0, 0)) != 0 || p.CountOn(day(7, 14)) != 1 || p.CountOn(day(1, 0)) != 1 {
		t.Errorf("after a week: total %d, day 0 %d, day 7 %d", p.Total, p.CountOn(day(0, 0)), p.CountOn(day(7, 14)))
	}
	// A late event for a day older than the window does not evict a newer
	// day; one for a remembered day counts.
	p = transfer.EvolvePair(p, recorded(day(0, 3)))
	p = transfer.EvolvePair(p, recorded(day(7, 2)))
	if p.CountOn(day(1, 0)) != 1 || p.CountOn(day(7, 0)) != 2 || p.Total != 11 || !p.LastAt.Equal(day(7, 2)) {
		t.Errorf("after late events: day 1 %d, day 7 %d, total %d, last %v", p.CountOn(day(1, 0)), p.CountOn(day(7, 0)), p.Total, p.LastAt)
	}
	type futureEvent struct{}
	if q := transfer.EvolvePair(p, futureEvent{}); q != p {
		t.Error("EvolvePair(unknown) changed the pair")
	}
}
