package users

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
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

// Names returns the names of accounts, opened with open, in one query:
// the accounts a page of descriptions mentions. Accounts the read model
// does not have, and names that are empty, are left out.
func Names(ctx context.Context, db *projection.DB, ids []string, open Opener) (map[string]string, error) {
	names := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return names, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := query(ctx, db, `SELECT id, name, erased FROM accounts WHERE id IN (?`+strings.Repeat(`, ?`, len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, sealed string
			erased     bool
		)
		if err := rows.Scan(&id, &sealed, &erased); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		name, err := reveal(ctx, open, erased, sealed)
		if err != nil {
			return nil, err
		}
		if name != "" {
			names[id] = name
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return names, nil
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
// a page at a time: the most recently met first, then by officer id.
// cursor is "" for the first page, then the next a page returned, "" after
// the last. Each page groups the civilian's interactions again (found by
// the from_id index), a cost in one civilian's interactions. An officer
// met again during a walk moves to the first page: the walk lists it
// where it was if it got there first, else not at all, never twice.
func OfficersMet(ctx context.Context, db *projection.DB, civilianID string, open Opener, limit int, cursor string) ([]OfficerMet, string, error) {
	limit = pageLimit(limit)
	having, args := "", []any{KindInteraction, civilianID}
	if cursor != "" {
		at, id, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		having = ` HAVING MAX(t.at) < ? OR (MAX(t.at) = ? AND t.to_id > ?)`
		args = append(args, at, at, id)
	}
	rows, err := query(ctx, db, `SELECT t.to_id, COALESCE(a.name, ''), COALESCE(a.department, ''),
			COALESCE(a.erased, FALSE), COUNT(*), MAX(t.at)
		FROM transactions t LEFT JOIN accounts a ON a.id = t.to_id
		WHERE t.kind = ? AND t.from_id = ?
		GROUP BY t.to_id, a.name, a.department, a.erased`+having+`
		ORDER BY MAX(t.at) DESC, t.to_id LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	// Names are opened once the page is cut: the row past it only tells
	// that another page follows.
	type row struct {
		OfficerMet
		sealed string
		erased bool
	}
	var page []row
	for rows.Next() {
		var (
			r    row
			last string
		)
		if err := rows.Scan(&r.OfficerID, &r.sealed, &r.Department, &r.erased, &r.Interactions, &last); err != nil {
			return nil, "", fmt.Errorf("users: %w", err)
		}
		if r.LastMet, err = unstamp(last); err != nil {
			return nil, "", err
		}
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("users: %w", err)
	}
	page, next := cutPage(page, limit, func(r row) string { return r.Cursor() })
	out := make([]OfficerMet, len(page))
	for i, r := range page {
		out[i] = r.OfficerMet
		if out[i].Name, err = reveal(ctx, open, r.erased, r.sealed); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// Cursor is the cursor of the page of officers met that follows o.
func (o OfficerMet) Cursor() string {
	return encodeCursor(stamp(o.LastMet), o.OfficerID)
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
	var d Donations
	if err := scanOne(ctx, db, `SELECT COALESCE(SUM(points), 0), COUNT(*) FROM transactions WHERE kind = ? AND to_id = ?`,
		[]any{KindDonation, recipientID}, &d.Total, &d.Count); err != nil {
		return Donations{}, "", err
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

// Sales is what a merchant sold: totals over every product it listed, and
// a page of those products (the best-selling first, then by SKU; unsold
// ones too, with zeros).
type Sales struct {
	Units    int64          `json:"units"`
	Points   int64          `json:"points"`
	Products []ProductSales `json:"products"`
}

// MerchantSales returns the goods a merchant has sold, in units and
// points: the totals over every product, and a page of products, the
// best-selling first, then by SKU. cursor is "" for the first page, then
// the next a page returned, "" after the last. A page sorts the merchant's
// products (found by the primary key). A product that sells during a walk
// moves up: the walk lists it once, or not at all if it moves behind the
// cursor before the walk gets to it.
func MerchantSales(ctx context.Context, db *projection.DB, merchantID string, limit int, cursor string) (Sales, string, error) {
	limit = pageLimit(limit)
	where, args := `WHERE merchant_id = ?`, []any{merchantID}
	if cursor != "" {
		units, sku, err := decodeIntCursor(cursor)
		if err != nil {
			return Sales{}, "", err
		}
		where += ` AND (units_sold < ? OR (units_sold = ? AND sku > ?))`
		args = append(args, units, units, sku)
	}
	s := Sales{Products: []ProductSales{}}
	if err := scanOne(ctx, db, `SELECT COALESCE(SUM(units_sold), 0), COALESCE(SUM(points_earned), 0) FROM products WHERE merchant_id = ?`,
		[]any{merchantID}, &s.Units, &s.Points); err != nil {
		return Sales{}, "", err
	}
	rows, err := query(ctx, db, `SELECT sku, name, units_sold, points_earned FROM products `+where+`
		ORDER BY units_sold DESC, sku LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return Sales{}, "", err
	}
	defer rows.Close()
	for rows.Next() {
		var p ProductSales
		if err := rows.Scan(&p.SKU, &p.Name, &p.Units, &p.Points); err != nil {
			return Sales{}, "", fmt.Errorf("users: %w", err)
		}
		s.Products = append(s.Products, p)
	}
	if err := rows.Err(); err != nil {
		return Sales{}, "", fmt.Errorf("users: %w", err)
	}
	var next string
	s.Products, next = cutPage(s.Products, limit, func(p ProductSales) string {
		return encodeCursor(strconv.FormatInt(p.Units, 10), p.SKU)
	})
	return s, next, nil
}

// scanOne reads the one row an aggregate query returns into dest.
func scanOne(ctx context.Context, db *projection.DB, q string, args []any, dest ...any) error {
	rows, err := query(ctx, db, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("users: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("users: %w", err)
	}
	return nil
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
