package transfer

import (
	"fmt"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain/account"
)

// Interact records that an officer met a civilian: the officer submitted the
// encounter token the civilian showed. That the token is genuine, unexpired
// and unused is the handler's check (it holds the keys and the claims); the
// domain decides who earns what.
type Interact struct {
	// TxID is the transaction's id.
	TxID       string
	CivilianID string
	OfficerID  string
	// TokenID identifies the encounter token.
	TokenID string
	At      time.Time
}

// DecideInteraction decides cmd on the civilian's and officer's accounts and
// their pair, as the handler loaded them. Both must be active accounts of
// their kind; the rules must allow it (the handler evaluated them with
// counters from pair, such as pair.CountOn(cmd.At)). The civilian is
// credited the rules' civilian points and the officer the officer points;
// both are created, not moved. InteractionRecorded goes to the pair's
// stream, so that the next decision for the pair counts this one.
func DecideInteraction(civ, off account.State, pair Pair, cmd Interact, p Pricing) (Outcome, error) {
	for _, f := range []struct{ name, v string }{
		{"tx_id", cmd.TxID}, {"civilian_id", cmd.CivilianID}, {"officer_id", cmd.OfficerID}, {"token_id", cmd.TokenID},
	} {
		if err := id(f.name, f.v); err != nil {
			return Outcome{}, err
		}
	}
	if err := at(cmd.At); err != nil {
		return Outcome{}, err
	}
	if pair.Exists() && (pair.CivilianID != cmd.CivilianID || pair.OfficerID != cmd.OfficerID) {
		return Outcome{}, fmt.Errorf("transfer: the pair %s/%s was given for %s/%s",
			pair.CivilianID, pair.OfficerID, cmd.CivilianID, cmd.OfficerID)
	}
	if err := party("civilian_id", cmd.CivilianID, civ, account.Civilian); err != nil {
		return Outcome{}, err
	}
	if err := party("officer_id", cmd.OfficerID, off, account.Officer); err != nil {
		return Outcome{}, err
	}
	awards, err := price(p, PartyCivilian, PartyOfficer)
	if err != nil {
		return Outcome{}, err
	}
	c, o := side{field: "civilian_id", state: civ}, side{field: "officer_id", state: off}
	if err := c.credit(awards[0], "pricing.points."+PartyCivilian, ReasonInteraction, cmd.TxID, cmd.At); err != nil {
		return Outcome{}, err
	}
	if err := o.credit(awards[1], "pricing.points."+PartyOfficer, ReasonInteraction, cmd.TxID, cmd.At); err != nil {
		return Outcome{}, err
	}
	record := InteractionRecorded{
		TxID: cmd.TxID, CivilianID: cmd.CivilianID, OfficerID: cmd.OfficerID, TokenID: cmd.TokenID,
		CivilianPoints: awards[0], OfficerPoints: awards[1], RuleVersion: p.RuleVersion, RecordedAt: cmd.At,
	}
	return Outcome{Appends: []StreamEvents{
		c.append(), o.append(),
		{StreamID: PairStreamID(cmd.CivilianID, cmd.OfficerID), Events: []any{record}},
	}}, nil
}
