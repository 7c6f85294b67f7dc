// Package transfer decides the four transactions that move points between
// accounts: donations, giveaways, redemptions and interactions.
//
// A transaction touches several aggregates at once (two balances, maybe a
// product's stock or a civilian/officer pair), so it cannot be one
// aggregate's Decide. Each Decide* function here takes the states the
// command handler loaded, decides every side through that aggregate's own
// Decide (account.Decide for balances, product.Decide for stock), and
// returns an Outcome: the events to append to each stream, in one atomic
// multi-stream append at the versions the states were loaded at. The
// invariants therefore live where they always do: a balance never goes
// negative and closed or pending accounts never move points, because
// account.Decide refuses it; the stock never goes negative, because
// product.Decide refuses it. This package adds the rules between the sides:
// who may pay whom, that the rules engine allowed the transaction, and how
// many points each side gets.
//
// Pricing comes in from the caller. The business rules are data evaluated
// outside the domain; the decision only needs their verdict and figures,
// and records the rule version that priced it, so a rule change never
// rewrites history.
//
// Points are conserved by transfers: a donation, a giveaway and a
// redemption take from one balance exactly what they add to another. Points
// are created only by the rules' awards: the donor's, giver's and
// redeemer's bonus, and the two sides' interaction points. Each record
// event carries those figures, so the total of all balances can be checked
// against the log.
//
// Every transaction also writes a record event to a stream of its own
// ("donation-<txid>", "giveaway-<txid>", "redemption-<txid>"): appended as a
// new stream, it makes a transaction id usable once, and it gives read
// models one event per transaction instead of a pair of ledger entries to
// match.
package transfer
