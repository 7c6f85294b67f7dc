// Package users is the users-domain read model: the relational tables the
// platform's profile and relationship questions are answered from (who an
// account is, which officers a civilian met, who donated to a family, what a
// merchant sold, how accounts are linked), without a graph database.
//
// It is one projection, "users", fed by the account, donation, giveaway,
// redemption, acquaintance and product streams. Its logical tables:
//
//   - accounts: one row per account, from its own stream. Personal fields
//     (name, email, phone) are stored as the sealed tokens the events carry
//     and are never decrypted into the table: erasing an account's data key
//     then erases them here too, in every generation and every rebuild. The
//     queries open them only through an [Opener] the caller passes.
//   - transactions: one row per interaction, donation, giveaway and
//     redemption, from the transaction's record event.
//   - products: one row per merchant product, with stock and sales.
//
// Each table is written only from its own streams, so the order in which
// separate consumers deliver different streams never matters: queries join
// the tables with LEFT JOINs and there are no foreign keys. Writes are
// upserts keyed by the natural ids.
//
// Times are stored as TEXT in both dialects, always in UTC with nine
// fractional digits (see timeLayout), so that text order is time order and
// one SQL text serves SQLite and Postgres.
package users

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/projection"
)

// Projection is the users-domain read model, registered with a
// projection.Runner. The zero value is ready to use.
type Projection struct{}

var _ projection.Projection = Projection{}

// Name identifies the read model in table names and its consumer's name.
func (Projection) Name() string { return "users" }

// Categories are the streams whose events build the tables: accounts,
// every transaction record stream, and products.
func (Projection) Categories() []string {
	return []string{"account", "donation", "giveaway", "redemption", "acquaintance", "product"}
}

// Tables are the logical tables; queries read views of these names.
func (Projection) Tables() []string { return []string{"accounts", "transactions", "products"} }

// Create returns the tables and indexes. The SQL is the same for both
// dialects: plain TEXT, BIGINT, INTEGER and BOOLEAN columns.
func (Projection) Create(projection.Dialect) []string {
	return []string{
		`CREATE TABLE {accounts} (
			id TEXT PRIMARY KEY,
			kind TEXT NOT NULL,
			status TEXT NOT NULL,
			name TEXT NOT NULL DEFAULT '',
			email TEXT NOT NULL DEFAULT '',
			phone TEXT NOT NULL DEFAULT '',
			business_name TEXT NOT NULL DEFAULT '',
			department TEXT NOT NULL DEFAULT '',
			registration_number TEXT NOT NULL DEFAULT '',
			household_size INTEGER NOT NULL DEFAULT 0,
			sponsor_charity_id TEXT NOT NULL DEFAULT '',
			balance BIGINT NOT NULL DEFAULT 0,
			opened_at TEXT NOT NULL DEFAULT '',
			verified_at TEXT NOT NULL DEFAULT '',
			closed_at TEXT NOT NULL DEFAULT '',
			erased BOOLEAN NOT NULL DEFAULT FALSE,
			last_activity_at TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE TABLE {transactions} (
			id TEXT PRIMARY KEY,
			kind TEXT NOT NULL,
			from_id TEXT NOT NULL,
			to_id TEXT NOT NULL,
			points BIGINT NOT NULL,
			bonus BIGINT NOT NULL,
			merchant_id TEXT NOT NULL DEFAULT '',
			sku TEXT NOT NULL DEFAULT '',
			quantity BIGINT NOT NULL DEFAULT 0,
			rule_version INTEGER NOT NULL,
			at TEXT NOT NULL,
			note TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX {transactions}_from ON {transactions} (from_id, at, id)`,
		`CREATE INDEX {transactions}_to ON {transactions} (to_id, at, id)`,
		`CREATE TABLE {products} (
			merchant_id TEXT NOT NULL,
			sku TEXT NOT NULL,
			name TEXT NOT NULL,
			price_points BIGINT NOT NULL,
			stock BIGINT NOT NULL,
			status TEXT NOT NULL,
			units_sold BIGINT NOT NULL DEFAULT 0,
			points_earned BIGINT NOT NULL DEFAULT 0,
			PRIMARY KEY (merchant_id, sku)
		)`,
	}
}

// The transaction kinds of the transactions table.
const (
	KindInteraction = "interaction"
	KindDonation    = "donation"
	KindGiveaway    = "giveaway"
	KindRedemption  = "redemption"
)

// ErrNotFound is returned for an account the read model does not hold. It
// is a domain not-found error, so the API edges answer 404 as they do for
// commands.
var ErrNotFound = domain.NotFound("", "no such account")

// Opener opens a sealed personal field. The caller passes one when the
// reader may see personal data (for example service.Cipher().Open for the
// account itself or staff), and nil when not: the queries then return
// personal fields empty. An error matching pii.ErrErased reads as
// pii.Erased.
type Opener func(ctx context.Context, sealed string) (string, error)

// reveal turns a stored sealed field into what the caller may see.
func reveal(ctx context.Context, open Opener, erased bool, sealed string) (string, error) {
	switch {
	case open == nil:
		return "", nil
	case erased:
		return pii.Erased, nil
	case sealed == "":
		return "", nil
	}
	v, err := open(ctx, sealed)
	if errors.Is(err, pii.ErrErased) {
		return pii.Erased, nil
	}
	if err != nil {
		return "", fmt.Errorf("users: open a personal field: %w", err)
	}
	return v, nil
}

// Account is an account as the read model shows it: a user's or a
// merchant's information. Name, Email and Phone are opened by the caller's
// Opener (empty without one, pii.Erased after an erasure).
type Account struct {
	ID                 string         `json:"id"`
	Kind               account.Kind   `json:"kind"`
	Status             account.Status `json:"status"`
	Name               string         `json:"name,omitempty"`
	Email              string         `json:"email,omitempty"`
	Phone              string         `json:"phone,omitempty"`
	BusinessName       string         `json:"business_name,omitempty"`
	Department         string         `json:"department,omitempty"`
	RegistrationNumber string         `json:"registration_number,omitempty"`
	HouseholdSize      int            `json:"household_size,omitempty"`
	SponsorCharityID   string         `json:"sponsor_charity_id,omitempty"`
	Balance            int64          `json:"balance"`
	OpenedAt           time.Time      `json:"opened_at"`
	// VerifiedAt and ClosedAt are zero when it did not happen.
	VerifiedAt time.Time `json:"verified_at"`
	ClosedAt   time.Time `json:"closed_at"`
	// Erased says the account's personal data was erased.
	Erased bool `json:"erased"`
	// LastActivityAt is the latest of its opening, profile updates, credits,
	// debits and closing.
	LastActivityAt time.Time `json:"last_activity_at"`
}

// Transaction is one row of the transactions table. FromID is the payer
// (for an interaction, the civilian) and ToID the receiver (the officer;
// for a redemption, the merchant). Points is what moved to ToID, or for an
// interaction what the civilian earned; Bonus is what the rules created for
// FromID, or for an interaction what the officer earned.
type Transaction struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	FromID      string    `json:"from_id"`
	ToID        string    `json:"to_id"`
	Points      int64     `json:"points"`
	Bonus       int64     `json:"bonus"`
	MerchantID  string    `json:"merchant_id,omitempty"`
	SKU         string    `json:"sku,omitempty"`
	Quantity    int64     `json:"quantity,omitempty"`
	RuleVersion int       `json:"rule_version"`
	At          time.Time `json:"at"`
	Note        string    `json:"note,omitempty"`
}

// timeLayout is how times are stored: UTC, fixed width, so that text order
// is time order (RFC3339Nano drops trailing zeros and would not sort).
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// stamp formats a time for storage; the zero time is stored as "".
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// unstamp reads a stored time back; "" is the zero time.
func unstamp(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("users: stored time %q: %w", s, err)
	}
	return t, nil
}
