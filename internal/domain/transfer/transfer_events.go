package transfer

import (
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
)

// The record events: one per transaction, on the transaction's own stream
// (the pair's stream for interactions). They are plain structs with
// snake_case JSON names, written at schema version 1 (see Register). Each
// records the rule version that priced it and the points it created
// (Bonus, or the interaction points), so that the sum of all balances can
// be reconciled with the log.

// DonationMade records points donated to a charity or family.
type DonationMade struct {
	TxID   string `json:"tx_id"`
	From   string `json:"from"`
	To     string `json:"to"`
	Points int64  `json:"points"`
	// Bonus is the points the donor earned on top, created by the rules.
	Bonus       int64 `json:"bonus"`
	RuleVersion int   `json:"rule_version"`
	// Note is the donor's optional message to the receiver.
	Note      string    `json:"note,omitempty"`
	DonatedAt time.Time `json:"donated_at"`
}

// GiveawayMade records points given by one officer to another.
type GiveawayMade struct {
	TxID   string `json:"tx_id"`
	From   string `json:"from"`
	To     string `json:"to"`
	Points int64  `json:"points"`
	// Bonus is the points the giver earned on top, created by the rules.
	Bonus       int64     `json:"bonus"`
	RuleVersion int       `json:"rule_version"`
	GivenAt     time.Time `json:"given_at"`
}

// RedemptionMade records units of a product bought with points. Points go
// from the redeemer to the merchant unchanged.
type RedemptionMade struct {
	TxID       string `json:"tx_id"`
	RedeemerID string `json:"redeemer_id"`
	MerchantID string `json:"merchant_id"`
	SKU        string `json:"sku"`
	Quantity   int64  `json:"quantity"`
	UnitPrice  int64  `json:"unit_price"`
	Points     int64  `json:"points"`
	// Bonus is the points the redeemer earned back, created by the rules.
	Bonus       int64 `json:"bonus"`
	RuleVersion int   `json:"rule_version"`
	// Voucher is the code the redeemer shows to collect the goods.
	Voucher    string    `json:"voucher"`
	RedeemedAt time.Time `json:"redeemed_at"`
}

// InteractionRecorded records an encounter between a civilian and an
// officer and the points both earned. It is appended to the pair's stream,
// whose state (Pair) counts the pair's interactions for the rules.
type InteractionRecorded struct {
	TxID       string `json:"tx_id"`
	CivilianID string `json:"civilian_id"`
	OfficerID  string `json:"officer_id"`
	// TokenID identifies the encounter token the officer submitted.
	TokenID        string    `json:"token_id"`
	CivilianPoints int64     `json:"civilian_points"`
	OfficerPoints  int64     `json:"officer_points"`
	RuleVersion    int       `json:"rule_version"`
	RecordedAt     time.Time `json:"recorded_at"`
}

// Registrar is the domain's (see domain.Registrar); the alias keeps this
// package's Register signature readable on its own.
type Registrar = domain.Registrar

// Register declares the transaction record events to reg. The ledger
// entries and product events a transaction also writes belong to
// account.Register and product.Register. A schema change bumps a version
// here and comes with an upcaster in the codec, so old events still read.
func Register(reg Registrar) {
	reg.Add("DonationMade", 1, DonationMade{})
	reg.Add("GiveawayMade", 1, GiveawayMade{})
	reg.Add("RedemptionMade", 1, RedemptionMade{})
	reg.Add("InteractionRecorded", 1, InteractionRecorded{})
}
