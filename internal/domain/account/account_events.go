package account

import (
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
)

// Events are the facts the account stream records. They are plain structs
// with snake_case JSON names, written at schema version 1 (see Register).
// Fields tagged pii:"true" are encrypted by the codec with the account's data
// key, so that erasing the key erases them while the events still replay.

// AccountOpened records a new account, with the status its kind opens in.
// The Name is tagged personal for every kind: for civilians, officers and
// families it is a person's name, and one rule for all kinds is harder to get
// wrong than a rule per kind.
type AccountOpened struct {
	AccountID string `json:"account_id"`
	Kind      Kind   `json:"kind"`
	Status    Status `json:"status"`
	Name      string `json:"name" pii:"true"`
	Email     string `json:"email" pii:"true"`
	Phone     string `json:"phone,omitempty" pii:"true"`
	Profile
	// CredentialsAssigned says that a password hash was stored apart from
	// the events; the password never appears in one.
	CredentialsAssigned bool `json:"credentials_assigned"`
	// EmailIndex is the email's blind index: it names the uniqueness claim
	// without revealing the email.
	EmailIndex string    `json:"email_index,omitempty"`
	OpenedAt   time.Time `json:"opened_at"`
}

// PersonalDataErased records that the account's personal data was erased
// (its data key deleted). Read models drop the personal fields they hold.
type PersonalDataErased struct {
	AccountID string    `json:"account_id"`
	ErasedAt  time.Time `json:"erased_at"`
}

// AccountVerified records that a staff member verified a pending account,
// which makes it active.
type AccountVerified struct {
	AccountID  string    `json:"account_id"`
	VerifiedBy string    `json:"verified_by"`
	VerifiedAt time.Time `json:"verified_at"`
}

// ProfileUpdated records an account's new name, phone and profile, in full.
type ProfileUpdated struct {
	AccountID string `json:"account_id"`
	Name      string `json:"name" pii:"true"`
	Phone     string `json:"phone,omitempty" pii:"true"`
	Profile
	UpdatedAt time.Time `json:"updated_at"`
}

// AccountClosed records that the account closed.
type AccountClosed struct {
	AccountID string    `json:"account_id"`
	Reason    string    `json:"reason,omitempty"`
	ClosedAt  time.Time `json:"closed_at"`
}

// PointsCredited records points added to the balance.
type PointsCredited struct {
	AccountID string `json:"account_id"`
	Points    int64  `json:"points"`
	Reason    string `json:"reason"`
	TxID      string `json:"tx_id"`
	// Balance is the balance after this entry, so that a reader of one event
	// need not replay the stream to show it.
	Balance    int64     `json:"balance"`
	CreditedAt time.Time `json:"credited_at"`
}

// PointsDebited records points taken from the balance.
type PointsDebited struct {
	AccountID string `json:"account_id"`
	Points    int64  `json:"points"`
	Reason    string `json:"reason"`
	TxID      string `json:"tx_id"`
	// Balance is the balance after this entry.
	Balance   int64     `json:"balance"`
	DebitedAt time.Time `json:"debited_at"`
}

// Registrar is the domain's (see domain.Registrar); the alias keeps this
// package's Register signature readable on its own.
type Registrar = domain.Registrar

// Register declares the account events to reg. A schema change bumps a
// version here and comes with an upcaster in the codec, so old events still
// read.
func Register(reg Registrar) {
	reg.Add("AccountOpened", 1, AccountOpened{})
	reg.Add("AccountVerified", 1, AccountVerified{})
	reg.Add("ProfileUpdated", 1, ProfileUpdated{})
	reg.Add("AccountClosed", 1, AccountClosed{})
	reg.Add("PointsCredited", 1, PointsCredited{})
	reg.Add("PointsDebited", 1, PointsDebited{})
	reg.Add("PersonalDataErased", 1, PersonalDataErased{})
}
