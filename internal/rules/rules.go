// Package rules holds the business rules that price every transaction, as data.
//
// Staff edit rules at run time, so a rule is a value (kind, version, points per party, an
// optional CEL condition) rather than code: changing the points or the daily cap needs no
// deploy. Each rule carries a version so a transaction can record the exact rule that priced
// it, and a rule change never rewrites history. The package depends only on the standard
// library and CEL; storing rules and recording versions belong to the callers.
package rules

import (
	"maps"
	"slices"
)

// Transaction kinds priced by rules. They match the transaction kinds of the domain so a
// rule can be looked up by the kind of the transaction being priced.
const (
	KindInteraction = "interaction"
	KindDonation    = "donation"
	KindGiveaway    = "giveaway"
	KindRedemption  = "redemption"
)

// Parties are the accounts a rule awards points to. An interaction awards both sides; the
// other kinds move points between accounts by themselves, so their rule only adds a bonus
// for the party that initiated the transaction.
const (
	PartyCivilian = "civilian"
	PartyOfficer  = "officer"
	PartyDonor    = "donor"
	PartyGiver    = "giver"
	PartyRedeemer = "redeemer"
)

// MaxPoints bounds the points a rule awards one party per transaction, so a typo in a
// staff edit cannot mint an unbounded amount of points.
const MaxPoints = 10000

// parties lists, for each kind, the parties its rule must name, in a stable order used for
// error messages and listings.
var parties = map[string][]string{
	KindInteraction: {PartyCivilian, PartyOfficer},
	KindDonation:    {PartyDonor},
	KindGiveaway:    {PartyGiver},
	KindRedemption:  {PartyRedeemer},
}

// Kinds returns the transaction kinds that have a rule, sorted, so an API can list every
// rule without knowing the kinds itself.
func Kinds() []string {
	return slices.Sorted(maps.Keys(parties))
}

// Parties returns the parties a rule of the given kind must award, and false for an unknown
// kind. The API edge uses it to explain which points a rule edit must carry.
func Parties(kind string) ([]string, bool) {
	p, ok := parties[kind]
	return slices.Clone(p), ok
}

// Rule prices one kind of transaction. It is what staff edit and what a transaction records
// (by Version) as the rule that priced it.
type Rule struct {
	// Kind is the transaction kind the rule prices, one of the Kind constants.
	Kind string `json:"kind"`
	// Version starts at 1 and goes up by one on each edit; a transaction records it so
	// history can be explained after the rule changes.
	Version int `json:"version"`
	// Points maps each party of the kind to the points it earns, 0 to MaxPoints.
	Points map[string]int64 `json:"points"`
	// Condition is an optional CEL expression over tx and counters that must be true for
	// the rule to award anything; empty means always. See Engine for the variables.
	Condition string `json:"condition"`
}

// Defaults returns the rules that ship, all at version 1, so a fresh platform prices every
// transaction before staff edit anything. A new slice and maps are returned on each call so
// callers may modify them.
//
//   - interaction: the civilian earns 10 and the officer 5, at most 3 times per
//     civilian/officer pair per day (counters.pair_today < 3), which stops a pair from
//     farming points by repeating encounters.
//   - donation: the donor earns a bonus of 1 point for donations of at least 10 points
//     (tx.points >= 10), which rewards giving without paying for one-point donations.
//   - giveaway: no bonus; the points simply move from one officer to another.
//   - redemption: no bonus; the redeemer spends points on a product.
func Defaults() []Rule {
	return []Rule{
		{
			Kind:      KindInteraction,
			Version:   1,
			Points:    map[string]int64{PartyCivilian: 10, PartyOfficer: 5},
			Condition: "counters.pair_today < 3",
		},
		{
			Kind:      KindDonation,
			Version:   1,
			Points:    map[string]int64{PartyDonor: 1},
			Condition: "tx.points >= 10",
		},
		{Kind: KindGiveaway, Version: 1, Points: map[string]int64{PartyGiver: 0}},
		{Kind: KindRedemption, Version: 1, Points: map[string]int64{PartyRedeemer: 0}},
	}
}
