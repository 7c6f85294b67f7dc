package users

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/projection"
)

// query runs a read on the read pool; the SQL names the logical tables
// (the views readers see) and uses ? placeholders for both dialects.
func query(ctx context.Context, db *projection.DB, q string, args ...any) (*sql.Rows, error) {
	if db.Dialect == projection.Postgres {
		q = projection.Rebind(q)
	}
	rows, err := db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return rows, nil
}

// Profile returns an account's information, whatever its kind: a user's
// profile or a merchant's. Personal fields are opened with open (nil: left
// empty). ErrNotFound when the read model has no such account.
func Profile(ctx context.Context, db *projection.DB, id string, open Opener) (Account, error) {
	rows, err := query(ctx, db, `SELECT id, kind, status, name, email, phone, business_name, department,
		registration_number, household_size, sponsor_charity_id, balance, opened_at, verified_at, closed_at,
		erased, last_activity_at FROM accounts WHERE id = ?`, id)
	if err != nil {
		return Account{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Account{}, fmt.Errorf("users: %w", err)
		}
		return Account{}, ErrNotFound
	}
	var (
		a                                 Account
		kind, status, name, email, phone  string
		opened, verified, closed, touched string
	)
	if err := rows.Scan(&a.ID, &kind, &status, &name, &email, &phone, &a.BusinessName, &a.Department,
		&a.RegistrationNumber, &a.HouseholdSize, &a.SponsorCharityID, &a.Balance, &opened, &verified, &closed,
		&a.Erased, &touched); err != nil {
		return Account{}, fmt.Errorf("users: %w", err)
	}
	a.Kind, a.Status = account.Kind(kind), account.Status(status)
	for _, f := range []struct {
		dst    *string
		sealed string
	}{{&a.Name, name}, {&a.Email, email}, {&a.Phone, phone}} {
		if *f.dst, err = reveal(ctx, open, a.Erased, f.sealed); err != nil {
			return Account{}, err
		}
	}
	for _, f := range []struct {
		dst *time.Time
		s   string
	}{{&a.OpenedAt, opened}, {&a.VerifiedAt, verified}, {&a.ClosedAt, closed}, {&a.LastActivityAt, touched}} {
		if *f.dst, err = unstamp(f.s); err != nil {
			return Account{}, err
		}
	}
	return a, rows.Err()
}

// OfficerMet is one officer a civilian has met: how often and when last.
// Name is opened by the caller's Opener.
type OfficerMet struct {
	OfficerID    string    `json:"officer_id"`
	Name         string    `json:"name,omitempty"`
	Department   string    `json:"department,omitempty"`
	Interactions int       `json:"interactions"`
	LastMet      time.Time `json:"last_met"`
}

// OfficersMet lists the officers a civilian has met through interactions,
// the most recently met first.
func OfficersMet(ctx context.Context, db *projection.DB, civilianID string, open Opener) ([]OfficerMet, error) {
	rows, err := query(ctx, db, `SELECT t.to_id, COALESCE(a.name, ''), COALESCE(a.department, ''),
			COALESCE(a.erased, FALSE), COUNT(*), MAX(t.at)
		FROM transactions t LEFT JOIN accounts a ON a.id = t.to_id
		WHERE t.kind = ? AND t.from_id = ?
		GROUP BY t.to_id, a.name, a.department, a.erased
		ORDER BY MAX(t.at) DESC, t.to_id`, KindInteraction, civilianID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []OfficerMet{}
	for rows.Next() {
		var (
			o            OfficerMet
			sealed, last string
			erased       bool
		)
		if err := rows.Scan(&o.OfficerID, &sealed, &o.Department, &erased, &o.Interactions, &last); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		if o.Name, err = reveal(ctx, open, erased, sealed); err != nil {
			return nil, err
		}
		if o.LastMet, err = unstamp(last); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Donations is every donation made to one recipient and their sum.
type Donations struct {
	Items []Transaction `json:"items"`
	Total int64         `json:"total"`
	Count int           `json:"count"`
}

// DonationsTo lists the donations made to a family in need or a charity,
// newest first, with their total in points.
func DonationsTo(ctx context.Context, db *projection.DB, recipientID string) (Donations, error) {
	items, err := transactions(ctx, db, `WHERE kind = ? AND to_id = ? ORDER BY at DESC, id DESC`, KindDonation, recipientID)
	if err != nil {
		return Donations{}, err
	}
	d := Donations{Items: items, Count: len(items)}
	for _, t := range items {
		d.Total += t.Points
	}
	return d, nil
}

// DonationsPage is DonationsTo a page at a time: the total and count are
// of every donation, the items one page of them, newest first; next is the
// cursor of the following page, "" after the last.
func DonationsPage(ctx context.Context, db *projection.DB, recipientID string, limit int, cursor string) (Donations, string, error) {
	rows, err := query(ctx, db, `SELECT COALESCE(SUM(points), 0), COUNT(*) FROM transactions WHERE kind = ? AND to_id = ?`, KindDonation, recipientID)
	if err != nil {
		return Donations{}, "", err
	}
	var d Donations
	for rows.Next() {
		if err := rows.Scan(&d.Total, &d.Count); err != nil {
			rows.Close()
			return Donations{}, "", fmt.Errorf("users: %w", err)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Donations{}, "", fmt.Errorf("users: %w", err)
	}
	items, next, err := transactionPage(ctx, db, `WHERE kind = ? AND to_id = ?`, []any{KindDonation, recipientID}, limit, cursor)
	d.Items = items
	return d, next, err
}

// ProductSales is what one product of a merchant sold.
type ProductSales struct {
	SKU    string `json:"sku"`
	Name   string `json:"name"`
	Units  int64  `json:"units"`
	Points int64  `json:"points"`
}

// Sales is what a merchant sold: totals and every product it listed (the
// best-selling first; unsold ones too, with zeros).
type Sales struct {
	Units    int64          `json:"units"`
	Points   int64          `json:"points"`
	Products []ProductSales `json:"products"`
}

// MerchantSales returns the goods a merchant has sold, in units and points,
// in total and per product.
func MerchantSales(ctx context.Context, db *projection.DB, merchantID string) (Sales, error) {
	rows, err := query(ctx, db, `SELECT sku, name, units_sold, points_earned FROM products
		WHERE merchant_id = ? ORDER BY units_sold DESC, sku`, merchantID)
	if err != nil {
		return Sales{}, err
	}
	defer rows.Close()
	s := Sales{Products: []ProductSales{}}
	for rows.Next() {
		var p ProductSales
		if err := rows.Scan(&p.SKU, &p.Name, &p.Units, &p.Points); err != nil {
			return Sales{}, fmt.Errorf("users: %w", err)
		}
		s.Units += p.Units
		s.Points += p.Points
		s.Products = append(s.Products, p)
	}
	return s, rows.Err()
}

// transactions reads transaction rows; tail is the WHERE/ORDER/LIMIT part.
func transactions(ctx context.Context, db *projection.DB, tail string, args ...any) ([]Transaction, error) {
	rows, err := query(ctx, db, `SELECT id, kind, from_id, to_id, points, bonus, merchant_id, sku, quantity,
		rule_version, at, note FROM transactions `+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Transaction{}
	for rows.Next() {
		var (
			t  Transaction
			at string
		)
		if err := rows.Scan(&t.ID, &t.Kind, &t.FromID, &t.ToID, &t.Points, &t.Bonus, &t.MerchantID, &t.SKU,
			&t.Quantity, &t.RuleVersion, &at, &t.Note); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		if t.At, err = unstamp(at); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return out, nil
}
