package users

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluepoint/bluepoint/internal/codec"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/product"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/service"
)

// decoder decodes events exactly as the service encodes them (upcasters
// included). Personal fields stay sealed: it only parses JSON.
var decoder = service.NewCodec()

var _ projection.Batcher = Projection{}

// Apply writes one event into the tables; see ApplyBatch.
func (p Projection) Apply(ctx context.Context, tx *projection.Tx, e eventstore.Event) error {
	return p.ApplyBatch(ctx, tx, []eventstore.Event{e})
}

// ApplyBatch writes events into the tables. The runner calls it with the
// events of a stream once each and in order, in the transaction that
// records them as applied: live, one event at a time; in a rebuild, a
// whole batch of the global log. It reads the rows the events touch with
// one query per table, folds the events into them in memory and writes
// each changed row back once, so a batch costs a handful of statements
// whatever its size. Event types it does not know (added to these streams
// later) are skipped rather than stopping the read model.
func (Projection) ApplyBatch(ctx context.Context, tx *projection.Tx, events []eventstore.Event) error {
	vs := make([]any, 0, len(events))
	for _, e := range events {
		v, err := decoder.Decode(e)
		if errors.Is(err, codec.ErrUnknownType) {
			continue
		}
		if err != nil {
			return err
		}
		vs = append(vs, v)
	}
	s := newState()
	if err := s.load(ctx, tx, vs); err != nil {
		return err
	}
	for _, v := range vs {
		s.apply(v)
	}
	return s.save(ctx, tx)
}

// accountRow is a row of the accounts table as stored.
type accountRow struct {
	id, kind, status, name, email, phone, businessName, department, registrationNumber string
	householdSize                                                                      int64
	sponsorCharityID                                                                   string
	balance                                                                            int64
	openedAt, verifiedAt, closedAt                                                     string
	erased                                                                             bool
	lastActivityAt                                                                     string
}

const accountColumns = `id, kind, status, name, email, phone, business_name, department, registration_number,
	household_size, sponsor_charity_id, balance, opened_at, verified_at, closed_at, erased, last_activity_at`

func (a *accountRow) dest() []any {
	return []any{&a.id, &a.kind, &a.status, &a.name, &a.email, &a.phone, &a.businessName, &a.department,
		&a.registrationNumber, &a.householdSize, &a.sponsorCharityID, &a.balance, &a.openedAt, &a.verifiedAt,
		&a.closedAt, &a.erased, &a.lastActivityAt}
}

func (a *accountRow) values() []any {
	return []any{a.id, a.kind, a.status, a.name, a.email, a.phone, a.businessName, a.department,
		a.registrationNumber, a.householdSize, a.sponsorCharityID, a.balance, a.openedAt, a.verifiedAt,
		a.closedAt, a.erased, a.lastActivityAt}
}

// productRow is a row of the products table as stored.
type productRow struct {
	merchantID, sku, name   string
	pricePoints, stock      int64
	status                  string
	unitsSold, pointsEarned int64
}

const productColumns = `merchant_id, sku, name, price_points, stock, status, units_sold, points_earned`

type productKey struct{ merchantID, sku string }

// state holds the rows a batch touches. A row absent from the table is
// absent from the maps too: updates of a row that does not exist change
// nothing, as an UPDATE would.
type state struct {
	accounts map[string]*accountRow
	products map[productKey]*productRow
	txs      map[string]Transaction
	// The order rows were first changed in, so writes are deterministic.
	dirtyAccounts []string
	dirtyProducts []productKey
	txOrder       []string
	dirty         map[any]bool
}

func newState() *state {
	return &state{accounts: map[string]*accountRow{}, products: map[productKey]*productRow{}, txs: map[string]Transaction{}, dirty: map[any]bool{}}
}

// load reads the account and product rows the events name.
func (s *state) load(ctx context.Context, tx *projection.Tx, vs []any) error {
	var ids, merchants []string
	seen := map[string]bool{}
	for _, v := range vs {
		if id := accountOf(v); id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		if k, ok := productOf(v); ok && !seen["\x00"+k.merchantID] {
			seen["\x00"+k.merchantID] = true
			merchants = append(merchants, k.merchantID)
		}
	}
	err := tx.QueryIn(ctx, `SELECT `+accountColumns+` FROM {accounts} WHERE id IN (?...)`, ids, func(rows projection.Rows) error {
		a := &accountRow{}
		if err := rows.Scan(a.dest()...); err != nil {
			return fmt.Errorf("users: load accounts: %w", err)
		}
		s.accounts[a.id] = a
		return nil
	})
	if err != nil {
		return err
	}
	// A merchant has few products: reading them all is one simple query.
	return tx.QueryIn(ctx, `SELECT `+productColumns+` FROM {products} WHERE merchant_id IN (?...)`, merchants, func(rows projection.Rows) error {
		p := &productRow{}
		if err := rows.Scan(&p.merchantID, &p.sku, &p.name, &p.pricePoints, &p.stock, &p.status, &p.unitsSold, &p.pointsEarned); err != nil {
			return fmt.Errorf("users: load products: %w", err)
		}
		s.products[productKey{p.merchantID, p.sku}] = p
		return nil
	})
}

// accountOf names the account row an event changes.
func accountOf(v any) string {
	switch ev := v.(type) {
	case account.AccountOpened:
		return ev.AccountID
	case account.AccountVerified:
		return ev.AccountID
	case account.ProfileUpdated:
		return ev.AccountID
	case account.AccountClosed:
		return ev.AccountID
	case account.PointsCredited:
		return ev.AccountID
	case account.PointsDebited:
		return ev.AccountID
	case account.PersonalDataErased:
		return ev.AccountID
	}
	return ""
}

// productOf names the product row an event changes.
func productOf(v any) (productKey, bool) {
	switch ev := v.(type) {
	case product.ProductListed:
		return productKey{ev.MerchantID, ev.SKU}, true
	case product.ProductRestocked:
		return productKey{ev.MerchantID, ev.SKU}, true
	case product.ProductRepriced:
		return productKey{ev.MerchantID, ev.SKU}, true
	case product.ProductDelisted:
		return productKey{ev.MerchantID, ev.SKU}, true
	case product.ProductRedeemed:
		return productKey{ev.MerchantID, ev.SKU}, true
	}
	return productKey{}, false
}

// account returns the row of id for a change, or nil when there is none.
func (s *state) account(id string) *accountRow {
	a := s.accounts[id]
	if a != nil && !s.dirty[id] {
		s.dirty[id] = true
		s.dirtyAccounts = append(s.dirtyAccounts, id)
	}
	return a
}

func (s *state) product(k productKey) *productRow {
	p := s.products[k]
	if p != nil && !s.dirty[k] {
		s.dirty[k] = true
		s.dirtyProducts = append(s.dirtyProducts, k)
	}
	return p
}

// apply folds one event into the rows.
func (s *state) apply(v any) {
	switch ev := v.(type) {
	case account.AccountOpened:
		s.opened(ev)
	case account.AccountVerified:
		if a := s.account(ev.AccountID); a != nil {
			a.status, a.verifiedAt = string(account.Active), stamp(ev.VerifiedAt)
		}
	case account.ProfileUpdated:
		if a := s.account(ev.AccountID); a != nil {
			if !a.erased {
				a.name, a.phone, a.businessName, a.department = ev.Name, ev.Phone, ev.BusinessName, ev.Department
				a.registrationNumber, a.householdSize, a.sponsorCharityID = ev.RegistrationNumber, int64(ev.HouseholdSize), ev.SponsorCharityID
			}
			touch(a, ev.UpdatedAt)
		}
	case account.AccountClosed:
		if a := s.account(ev.AccountID); a != nil {
			a.status, a.closedAt = string(account.Closed), stamp(ev.ClosedAt)
			touch(a, ev.ClosedAt)
		}
	case account.PointsCredited:
		// The entry carries the balance it left, so no sum is needed.
		if a := s.account(ev.AccountID); a != nil {
			a.balance = ev.Balance
			touch(a, ev.CreditedAt)
		}
	case account.PointsDebited:
		if a := s.account(ev.AccountID); a != nil {
			a.balance = ev.Balance
			touch(a, ev.DebitedAt)
		}
	case account.PersonalDataErased:
		// The tokens would no longer open anyway (the data key is gone);
		// dropping them keeps nothing personal in the table at all.
		if a := s.account(ev.AccountID); a != nil {
			a.name, a.email, a.phone, a.erased = "", "", "", true
		}
	case transfer.InteractionRecorded:
		s.record(Transaction{ID: ev.TxID, Kind: KindInteraction, FromID: ev.CivilianID, ToID: ev.OfficerID,
			Points: ev.CivilianPoints, Bonus: ev.OfficerPoints, RuleVersion: ev.RuleVersion, At: ev.RecordedAt})
	case transfer.DonationMade:
		s.record(Transaction{ID: ev.TxID, Kind: KindDonation, FromID: ev.From, ToID: ev.To,
			Points: ev.Points, Bonus: ev.Bonus, RuleVersion: ev.RuleVersion, At: ev.DonatedAt, Note: ev.Note})
	case transfer.GiveawayMade:
		s.record(Transaction{ID: ev.TxID, Kind: KindGiveaway, FromID: ev.From, ToID: ev.To,
			Points: ev.Points, Bonus: ev.Bonus, RuleVersion: ev.RuleVersion, At: ev.GivenAt})
	case transfer.RedemptionMade:
		s.record(Transaction{ID: ev.TxID, Kind: KindRedemption, FromID: ev.RedeemerID, ToID: ev.MerchantID,
			Points: ev.Points, Bonus: ev.Bonus, MerchantID: ev.MerchantID, SKU: ev.SKU, Quantity: ev.Quantity,
			RuleVersion: ev.RuleVersion, At: ev.RedeemedAt})
	case product.ProductListed:
		k := productKey{ev.MerchantID, ev.SKU}
		p := s.products[k]
		if p == nil {
			p = &productRow{merchantID: ev.MerchantID, sku: ev.SKU}
			s.products[k] = p
		}
		s.product(k)
		p.name, p.pricePoints, p.stock, p.status = ev.Name, ev.PricePoints, ev.Stock, string(product.Listed)
	case product.ProductRestocked:
		if p := s.product(productKey{ev.MerchantID, ev.SKU}); p != nil {
			p.stock = ev.StockAfter
		}
	case product.ProductRepriced:
		if p := s.product(productKey{ev.MerchantID, ev.SKU}); p != nil {
			p.pricePoints = ev.PricePoints
		}
	case product.ProductDelisted:
		if p := s.product(productKey{ev.MerchantID, ev.SKU}); p != nil {
			p.status = string(product.Delisted)
		}
	case product.ProductRedeemed:
		// Increments are exact: the runner applies each event of a stream
		// once and in order.
		if p := s.product(productKey{ev.MerchantID, ev.SKU}); p != nil {
			p.stock, p.unitsSold, p.pointsEarned = ev.StockAfter, p.unitsSold+ev.Quantity, p.pointsEarned+ev.Points
		}
	}
}

// opened creates (or, replayed onto a row that has it, rewrites) an
// account as it opens; the balance and later facts of an existing row stay.
func (s *state) opened(ev account.AccountOpened) {
	a := s.accounts[ev.AccountID]
	if a == nil {
		a = &accountRow{id: ev.AccountID}
		s.accounts[ev.AccountID] = a
	}
	s.account(ev.AccountID)
	at := stamp(ev.OpenedAt)
	a.kind, a.status, a.name, a.email, a.phone = string(ev.Kind), string(ev.Status), ev.Name, ev.Email, ev.Phone
	a.businessName, a.department, a.registrationNumber = ev.BusinessName, ev.Department, ev.RegistrationNumber
	a.householdSize, a.sponsorCharityID, a.openedAt, a.lastActivityAt = int64(ev.HouseholdSize), ev.SponsorCharityID, at, at
}

// touch moves last_activity_at forward, never back.
func touch(a *accountRow, at time.Time) {
	if s := stamp(at); a.lastActivityAt < s {
		a.lastActivityAt = s
	}
}

// record keeps a transaction: its record event is the only one that
// writes its row, so a second write can only carry the same values.
func (s *state) record(t Transaction) {
	if _, ok := s.txs[t.ID]; !ok {
		s.txOrder = append(s.txOrder, t.ID)
	}
	s.txs[t.ID] = t
}

// save writes every changed row back, one multi-row upsert per table.
func (s *state) save(ctx context.Context, tx *projection.Tx) error {
	rows := make([][]any, 0, len(s.dirtyAccounts))
	for _, id := range s.dirtyAccounts {
		rows = append(rows, s.accounts[id].values())
	}
	err := tx.ExecValues(ctx, `INSERT INTO {accounts} (`+accountColumns+`)`, rows,
		`ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, status = excluded.status, name = excluded.name,
			email = excluded.email, phone = excluded.phone, business_name = excluded.business_name,
			department = excluded.department, registration_number = excluded.registration_number,
			household_size = excluded.household_size, sponsor_charity_id = excluded.sponsor_charity_id,
			balance = excluded.balance, opened_at = excluded.opened_at, verified_at = excluded.verified_at,
			closed_at = excluded.closed_at, erased = excluded.erased, last_activity_at = excluded.last_activity_at`)
	if err != nil {
		return err
	}
	rows = rows[:0]
	for _, k := range s.dirtyProducts {
		p := s.products[k]
		rows = append(rows, []any{p.merchantID, p.sku, p.name, p.pricePoints, p.stock, p.status, p.unitsSold, p.pointsEarned})
	}
	err = tx.ExecValues(ctx, `INSERT INTO {products} (`+productColumns+`)`, rows,
		`ON CONFLICT (merchant_id, sku) DO UPDATE SET name = excluded.name, price_points = excluded.price_points,
			stock = excluded.stock, status = excluded.status, units_sold = excluded.units_sold,
			points_earned = excluded.points_earned`)
	if err != nil {
		return err
	}
	rows = rows[:0]
	for _, id := range s.txOrder {
		t := s.txs[id]
		rows = append(rows, []any{t.ID, t.Kind, t.FromID, t.ToID, t.Points, t.Bonus, t.MerchantID, t.SKU, t.Quantity,
			int64(t.RuleVersion), stamp(t.At), t.Note})
	}
	return tx.ExecValues(ctx, `INSERT INTO {transactions} (id, kind, from_id, to_id, points, bonus, merchant_id, sku,
			quantity, rule_version, at, note)`, rows,
		`ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, from_id = excluded.from_id, to_id = excluded.to_id,
			points = excluded.points, bonus = excluded.bonus, merchant_id = excluded.merchant_id, sku = excluded.sku,
			quantity = excluded.quantity, rule_version = excluded.rule_version, at = excluded.at, note = excluded.note`)
}
