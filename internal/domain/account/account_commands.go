package account

import "time"

// The commands are plain values that Decide accepts (not pointers). The times
// in them come from the command handler's clock, never from Decide, so that a
// decision depends on its inputs only and replays the same way.

// Open opens a new account. It is accepted once per account id.
type Open struct {
	// ID is the new account's id, chosen by the caller.
	ID   string
	Kind Kind
	// Name: 1 to 200 characters; a person's name, or an organisation's for
	// merchants and charities.
	Name string
	// Email must be a bare address (no display name). It is stored in lower
	// case so that uniqueness does not depend on capitalisation; the handler
	// checks uniqueness.
	Email string
	// Phone is optional; when given, an international number: "+" then 7 to
	// 15 digits (spaces, dots, dashes and brackets are dropped).
	Phone string
	// Profile carries the fields the kind requires, and only those.
	Profile Profile
	// CredentialsAssigned records that the handler stored a password hash
	// for the account. The password itself never reaches the domain.
	CredentialsAssigned bool
	// EmailIndex is the email's blind index (a keyed hash, not personal
	// data), computed by the caller, who holds the key. It is kept so that the
	// email's uniqueness claim can be released even after an erasure.
	EmailIndex string
	At         time.Time
}

// Verify marks a pending officer, charity or family active. The handler
// checks that By is a staff member; Decide only refuses self-verification.
type Verify struct {
	// By is the id of the staff member who verified the account.
	By string
	At time.Time
}

// UpdateProfile replaces an account's name, phone and kind-specific profile
// with new values, validated as at opening. It replaces rather than patches
// so that the event records the whole new profile; an edge that offers
// partial updates merges them over the current state first. The email is not
// part of it: changing it needs the uniqueness check of its own command.
type UpdateProfile struct {
	Name    string
	Phone   string
	Profile Profile
	At      time.Time
}

// Close closes an account for good: it neither earns nor spends again. The
// balance is kept as it was, so history still adds up.
type Close struct {
	// Reason is optional, up to 500 characters.
	Reason string
	At     time.Time
}

// Credit adds points to the balance, as one side of a transaction run by
// another aggregate (an interaction's reward, a donation received).
type Credit struct {
	// Points must be positive.
	Points int64
	// Reason names what the points are for ("interaction", "donation"...),
	// up to 100 characters.
	Reason string
	// TxID is the id of the transaction that moves the points, so that the
	// ledger entry can be traced back to it.
	TxID string
	At   time.Time
}

// Debit takes points from the balance, as one side of a transaction (a
// donation given, a redemption). It never takes the balance below zero.
type Debit struct {
	// Points must be positive and at most the balance.
	Points int64
	// Reason names what the points are spent on, up to 100 characters.
	Reason string
	// TxID is the id of the transaction that moves the points.
	TxID string
	At   time.Time
}

// Erase records that the account's personal data was erased: its data key is
// deleted by the caller, so every personal field of every event reads as
// erased from then on. The balance and the history stay.
type Erase struct {
	At time.Time
}
