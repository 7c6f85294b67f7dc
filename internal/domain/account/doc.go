// Package account is the account aggregate: who takes part in Bluepoint, in
// which role, whether they may transact, and how many points they hold.
//
// It is written as pure functions over plain values, with no infrastructure:
//
//   - Initial returns the state of an account that does not exist yet;
//   - Decide(state, command) returns the events a command produces, or a
//     *domain.Error saying which input is wrong and why;
//   - Evolve(state, event) applies one event.
//
// The command pipeline loads the events of the stream "account-<id>", folds
// them with Evolve, calls Decide and appends what it returns. Rules that need
// another aggregate or a table the domain cannot see are the command
// handler's: that a family's sponsor is a verified charity, that an email is
// unique, that the verifier is staff, and storing the password hash (the
// events only record that credentials were assigned).
//
// The balance is a ledger kept by PointsCredited and PointsDebited events.
// Other aggregates (interactions, donations, giveaways, redemptions) drive it
// with Credit and Debit commands, so the invariants live in one place: a
// balance never goes negative, closed accounts neither earn nor spend, and
// pending accounts cannot transact.
package account
