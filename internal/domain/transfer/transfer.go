package transfer

import "github.com/bluepoint/bluepoint/internal/domain/account"

// Pricing is the rules engine's verdict on one transaction, computed by the
// caller from the current rule of the transaction's kind.
type Pricing struct {
	// RuleVersion is the version of the rule that priced the transaction,
	// at least 1. It is recorded in the transaction's event.
	RuleVersion int
	// Points holds the points each party earns, by party name (PartyDonor,
	// PartyCivilian...). A missing party earns nothing; the decision ignores
	// parties that do not take part in its transaction.
	Points map[string]int64
	// Allowed is false when the rule's condition refused the transaction
	// (for example, a daily cap reached).
	Allowed bool
	// Reason says why the rule refused, for the person who sent the
	// command; empty when Allowed.
	Reason string
}

// The parties the rules award points to, as keys of Pricing.Points. They
// match the rules engine's names.
const (
	PartyDonor    = "donor"
	PartyGiver    = "giver"
	PartyRedeemer = "redeemer"
	PartyCivilian = "civilian"
	PartyOfficer  = "officer"
)

// CodeRuleRefused is the domain.Error code of a transaction the business
// rules refused (Pricing.Allowed false). The message carries the rule's
// reason. It is a code of its own so that a client can tell "the rules say
// no, for now" from a malformed command.
const CodeRuleRefused = "rule_refused"

// The reasons written on the ledger entries (account.Credit and
// account.Debit) of each transaction, so that a statement can say what each
// entry was for.
const (
	ReasonDonation        = "donation"
	ReasonDonationBonus   = "donation bonus"
	ReasonGiveaway        = "giveaway"
	ReasonGiveawayBonus   = "giveaway bonus"
	ReasonRedemption      = "redemption"
	ReasonRedemptionBonus = "redemption bonus"
	ReasonInteraction     = "interaction"
)

// The stream categories of the record events.
const (
	DonationCategory   = "donation"
	GiveawayCategory   = "giveaway"
	RedemptionCategory = "redemption"
	PairCategory       = "acquaintance"
)

// DonationStreamID returns the stream of donation txID's record.
func DonationStreamID(txID string) string { return DonationCategory + "-" + txID }

// GiveawayStreamID returns the stream of giveaway txID's record.
func GiveawayStreamID(txID string) string { return GiveawayCategory + "-" + txID }

// RedemptionStreamID returns the stream of redemption txID's record.
func RedemptionStreamID(txID string) string { return RedemptionCategory + "-" + txID }

// PairStreamID returns the stream of the interactions between a civilian
// and an officer.
func PairStreamID(civilianID, officerID string) string {
	return PairCategory + "-" + civilianID + "_" + officerID
}

// accountStreamID returns the stream of account id. The account package
// names its category but has no helper for the stream id.
func accountStreamID(id string) string { return account.Category + "-" + id }

// Outcome is what a transaction decided: the events to append to each
// stream it involves, all in one atomic append.
//
// Every stream the decision read is listed, even when it gets no event (an
// officer whose rule awards 0 points), so that the caller appends each at
// the version it loaded: a concurrent change to any of them (the receiver
// closed meanwhile) then fails the append, and the command is retried on
// fresh state, instead of slipping past. Streams never repeat.
type Outcome struct {
	Appends []StreamEvents
}

// StreamEvents is the part of an Outcome that goes to one stream.
type StreamEvents struct {
	StreamID string
	Events   []any
}

// Events returns the events the outcome appends to streamID, and whether it
// involves that stream at all.
func (o Outcome) Events(streamID string) ([]any, bool) {
	for _, a := range o.Appends {
		if a.StreamID == streamID {
			return a.Events, true
		}
	}
	return nil, false
}
