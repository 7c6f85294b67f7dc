package transfer

import (
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
)

// Donate gives points from any active account to a verified charity or
// family.
type Donate struct {
	// TxID is the transaction's id, chosen by the caller; it can be used
	// once (see DonationStreamID).
	TxID string
	// From is the donor's account id.
	From string
	// To is the receiving charity's or family's account id.
	To string
	// Points: 1 to 1,000,000, at most the donor's balance.
	Points int64
	// Note is an optional message to the receiver, up to 280 characters.
	Note string
	At   time.Time
}

// Give moves points from one officer to another, for example to thank a
// colleague.
type Give struct {
	// TxID is the transaction's id; it can be used once.
	TxID string
	// From is the giving officer's account id.
	From string
	// To is the receiving officer's account id.
	To string
	// Points: 1 to 1,000,000, at most the giver's balance.
	Points int64
	At     time.Time
}

// DecideDonation decides cmd on the donor's and receiver's accounts as the
// handler loaded them. The donor is debited the points and credited the
// rules' donor bonus; the receiver is credited the points. It returns a
// *domain.Error naming the field at fault when the donation is refused, and
// then no event.
func DecideDonation(from, to account.State, cmd Donate, p Pricing) (Outcome, error) {
	if err := checkGift(cmd.TxID, cmd.From, cmd.To, cmd.Points, cmd.At); err != nil {
		return Outcome{}, err
	}
	msg, err := note("note", cmd.Note)
	if err != nil {
		return Outcome{}, err
	}
	if err := party("from", cmd.From, from); err != nil {
		return Outcome{}, err
	}
	if err := party("to", cmd.To, to, account.Charity, account.Family); err != nil {
		return Outcome{}, err
	}
	awards, err := price(p, PartyDonor)
	if err != nil {
		return Outcome{}, err
	}
	bonus := awards[0]
	payer, payee := side{field: "from", state: from}, side{field: "to", state: to}
	if err := move(&payer, &payee, cmd.Points, bonus, PartyDonor, ReasonDonation, ReasonDonationBonus, cmd.TxID, cmd.At); err != nil {
		return Outcome{}, err
	}
	record := DonationMade{
		TxID: cmd.TxID, From: cmd.From, To: cmd.To, Points: cmd.Points, Bonus: bonus,
		RuleVersion: p.RuleVersion, Note: msg, DonatedAt: cmd.At,
	}
	return Outcome{Appends: []StreamEvents{
		payer.append(), payee.append(),
		{StreamID: DonationStreamID(cmd.TxID), Events: []any{record}},
	}}, nil
}

// DecideGiveaway decides cmd on the giving and receiving officers' accounts
// as the handler loaded them. The giver is debited the points and credited
// the rules' giver bonus; the receiver is credited the points.
func DecideGiveaway(from, to account.State, cmd Give, p Pricing) (Outcome, error) {
	if err := checkGift(cmd.TxID, cmd.From, cmd.To, cmd.Points, cmd.At); err != nil {
		return Outcome{}, err
	}
	if err := party("from", cmd.From, from, account.Officer); err != nil {
		return Outcome{}, err
	}
	if err := party("to", cmd.To, to, account.Officer); err != nil {
		return Outcome{}, err
	}
	awards, err := price(p, PartyGiver)
	if err != nil {
		return Outcome{}, err
	}
	bonus := awards[0]
	payer, payee := side{field: "from", state: from}, side{field: "to", state: to}
	if err := move(&payer, &payee, cmd.Points, bonus, PartyGiver, ReasonGiveaway, ReasonGiveawayBonus, cmd.TxID, cmd.At); err != nil {
		return Outcome{}, err
	}
	record := GiveawayMade{
		TxID: cmd.TxID, From: cmd.From, To: cmd.To, Points: cmd.Points, Bonus: bonus,
		RuleVersion: p.RuleVersion, GivenAt: cmd.At,
	}
	return Outcome{Appends: []StreamEvents{
		payer.append(), payee.append(),
		{StreamID: GiveawayStreamID(cmd.TxID), Events: []any{record}},
	}}, nil
}

// checkGift checks the input a donation and a giveaway share.
func checkGift(txID, from, to string, points int64, when time.Time) error {
	if err := id("tx_id", txID); err != nil {
		return err
	}
	if err := id("from", from); err != nil {
		return err
	}
	if err := id("to", to); err != nil {
		return err
	}
	if from == to {
		return domain.Invalid("to", "must be another account than the one points come from")
	}
	if err := amount("points", points); err != nil {
		return err
	}
	return at(when)
}

// move debits points from payer, credits the payer's bonus, and credits
// points to payee: the points are conserved, the bonus is created by the
// rules. The debit comes first so that the balance must cover the points
// before the bonus is added.
func move(payer, payee *side, points, bonus int64, bonusParty, reason, bonusReason, txID string, when time.Time) error {
	if err := payer.debit(points, "points", reason, txID, when); err != nil {
		return err
	}
	if err := payer.credit(bonus, "pricing.points."+bonusParty, bonusReason, txID, when); err != nil {
		return err
	}
	return payee.credit(points, "points", reason, txID, when)
}
