package account

import "time"

// Category is the event-stream category of accounts: the account "42" lives
// in the stream "account-42".
const Category = "account"

// Kind is the role an account plays on the platform. It is chosen when the
// account opens and never changes, because the rules (who must be verified,
// who can receive donations, who can sell) depend on it.
type Kind string

// The five kinds of account.
const (
	Civilian Kind = "civilian"
	Officer  Kind = "officer"
	Merchant Kind = "merchant"
	Charity  Kind = "charity"
	Family   Kind = "family"
)

// Staff is the kind of a platform operator's account: it verifies other
// accounts and edits the rules, opens active, has no profile, and never holds
// points. Nobody signs up as staff; operators create staff accounts.
const Staff Kind = "staff"

// Kinds lists every kind people sign up as, in a stable order, for
// validation messages and tests.
var Kinds = []Kind{Civilian, Officer, Merchant, Charity, Family}

// Valid reports whether k is one of the five kinds or Staff.
func (k Kind) Valid() bool {
	switch k {
	case Civilian, Officer, Merchant, Charity, Family, Staff:
		return true
	}
	return false
}

// NeedsVerification reports whether an account of this kind opens pending and
// waits for staff. Officers, charities and families do: they receive points
// or hand them out on trust, so a person checks them first. Civilians and
// merchants open active.
func (k Kind) NeedsVerification() bool {
	return k == Officer || k == Charity || k == Family
}

// InitialStatus is the status an account of this kind opens with.
func (k Kind) InitialStatus() Status {
	if k.NeedsVerification() {
		return Pending
	}
	return Active
}

// Status is where an account is in its life: pending -> active -> closed, or
// active -> closed for kinds that need no verification.
type Status string

// The statuses. None is the status of an account that was never opened.
const (
	None    Status = ""
	Pending Status = "pending"
	Active  Status = "active"
	Closed  Status = "closed"
)

// Profile holds the kind-specific fields of an account. Only the fields of
// the account's kind are set; the others stay empty.
//
// Fields tagged pii:"true" identify a person. The codec encrypts them with
// the account's data key, so that erasing the key erases them everywhere
// while the events still replay.
type Profile struct {
	// BadgeNumber is an officer's badge number (required for officers).
	BadgeNumber string `json:"badge_number,omitempty" pii:"true"`
	// Department is an officer's department (required for officers).
	Department string `json:"department,omitempty"`
	// BusinessName is a merchant's trading name (required for merchants).
	BusinessName string `json:"business_name,omitempty"`
	// Address is a merchant's address (required for merchants). It can be a
	// sole trader's home, so it is treated as personal.
	Address string `json:"address,omitempty" pii:"true"`
	// RegistrationNumber is a charity's official registration number
	// (required for charities).
	RegistrationNumber string `json:"registration_number,omitempty"`
	// HouseholdSize is the number of people in a family, 1 to 30 (required
	// for families).
	HouseholdSize int `json:"household_size,omitempty"`
	// SponsorCharityID is the id of the charity that sponsors a family
	// (required for families). That it is a verified charity is checked by
	// the command handler, which can load the charity; this package cannot.
	SponsorCharityID string `json:"sponsor_charity_id,omitempty"`
}

// State is an account as its events built it. The zero value (see Initial)
// is an account that does not exist.
type State struct {
	ID     string
	Kind   Kind
	Status Status
	// Name is a person's name (civilian, officer, family) or an
	// organisation's (merchant, charity).
	Name                string
	Email               string
	Phone               string
	Profile             Profile
	CredentialsAssigned bool
	// EmailIndex is the blind index of the email (see Open.EmailIndex).
	EmailIndex string
	// ErasedAt is when the personal data was erased; zero if it was not.
	ErasedAt time.Time
	// Balance is the number of points held; never negative.
	Balance    int64
	OpenedAt   time.Time
	VerifiedAt time.Time
	VerifiedBy string
	ClosedAt   time.Time
}

// Initial returns the state before the first event: no account.
func Initial() State { return State{} }

// Exists reports whether the account was opened.
func (s State) Exists() bool { return s.Status != None }
