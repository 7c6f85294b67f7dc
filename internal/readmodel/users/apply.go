package users

import (
	"context"
	"errors"
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

// Apply writes one event into the tables. The runner calls it once per
// event, in per-stream order, in the transaction that records the event as
// applied. Event types it does not know (added to these streams later) are
// skipped rather than stopping the read model.
func (Projection) Apply(ctx context.Context, tx *projection.Tx, e eventstore.Event) error {
	v, err := decoder.Decode(e)
	if errors.Is(err, codec.ErrUnknownType) {
		return nil
	}
	if err != nil {
		return err
	}
	switch ev := v.(type) {
	case account.AccountOpened:
		return opened(ctx, tx, ev)
	case account.AccountVerified:
		return exec(ctx, tx, `UPDATE {accounts} SET status = ?, verified_at = ? WHERE id = ?`,
			string(account.Active), stamp(ev.VerifiedAt), ev.AccountID)
	case account.ProfileUpdated:
		if err := exec(ctx, tx, `UPDATE {accounts} SET name = ?, phone = ?, business_name = ?, department = ?,
			registration_number = ?, household_size = ?, sponsor_charity_id = ? WHERE id = ? AND erased = FALSE`,
			ev.Name, ev.Phone, ev.BusinessName, ev.Department, ev.RegistrationNumber, int64(ev.HouseholdSize),
			ev.SponsorCharityID, ev.AccountID); err != nil {
			return err
		}
		return touch(ctx, tx, ev.AccountID, ev.UpdatedAt)
	case account.AccountClosed:
		if err := exec(ctx, tx, `UPDATE {accounts} SET status = ?, closed_at = ? WHERE id = ?`,
			string(account.Closed), stamp(ev.ClosedAt), ev.AccountID); err != nil {
			return err
		}
		return touch(ctx, tx, ev.AccountID, ev.ClosedAt)
	case account.PointsCredited:
		return balance(ctx, tx, ev.AccountID, ev.Balance, ev.CreditedAt)
	case account.PointsDebited:
		return balance(ctx, tx, ev.AccountID, ev.Balance, ev.DebitedAt)
	case account.PersonalDataErased:
		// The tokens would no longer open anyway (the data key is gone);
		// dropping them keeps nothing personal in the table at all.
		return exec(ctx, tx, `UPDATE {accounts} SET name = '', email = '', phone = '', erased = TRUE WHERE id = ?`, ev.AccountID)
	case transfer.InteractionRecorded:
		return record(ctx, tx, Transaction{ID: ev.TxID, Kind: KindInteraction, FromID: ev.CivilianID, ToID: ev.OfficerID,
			Points: ev.CivilianPoints, Bonus: ev.OfficerPoints, RuleVersion: ev.RuleVersion, At: ev.RecordedAt})
	case transfer.DonationMade:
		return record(ctx, tx, Transaction{ID: ev.TxID, Kind: KindDonation, FromID: ev.From, ToID: ev.To,
			Points: ev.Points, Bonus: ev.Bonus, RuleVersion: ev.RuleVersion, At: ev.DonatedAt, Note: ev.Note})
	case transfer.GiveawayMade:
		return record(ctx, tx, Transaction{ID: ev.TxID, Kind: KindGiveaway, FromID: ev.From, ToID: ev.To,
			Points: ev.Points, Bonus: ev.Bonus, RuleVersion: ev.RuleVersion, At: ev.GivenAt})
	case transfer.RedemptionMade:
		return record(ctx, tx, Transaction{ID: ev.TxID, Kind: KindRedemption, FromID: ev.RedeemerID, ToID: ev.MerchantID,
			Points: ev.Points, Bonus: ev.Bonus, MerchantID: ev.MerchantID, SKU: ev.SKU, Quantity: ev.Quantity,
			RuleVersion: ev.RuleVersion, At: ev.RedeemedAt})
	case product.ProductListed:
		return exec(ctx, tx, `INSERT INTO {products} (merchant_id, sku, name, price_points, stock, status)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (merchant_id, sku) DO UPDATE SET name = excluded.name, price_points = excluded.price_points,
			stock = excluded.stock, status = excluded.status`,
			ev.MerchantID, ev.SKU, ev.Name, ev.PricePoints, ev.Stock, string(product.Listed))
	case product.ProductRestocked:
		return exec(ctx, tx, `UPDATE {products} SET stock = ? WHERE merchant_id = ? AND sku = ?`, ev.StockAfter, ev.MerchantID, ev.SKU)
	case product.ProductRepriced:
		return exec(ctx, tx, `UPDATE {products} SET price_points = ? WHERE merchant_id = ? AND sku = ?`, ev.PricePoints, ev.MerchantID, ev.SKU)
	case product.ProductDelisted:
		return exec(ctx, tx, `UPDATE {products} SET status = ? WHERE merchant_id = ? AND sku = ?`,
			string(product.Delisted), ev.MerchantID, ev.SKU)
	case product.ProductRedeemed:
		// Increments are exact: the runner applies each event of a stream
		// once and in order.
		return exec(ctx, tx, `UPDATE {products} SET stock = ?, units_sold = units_sold + ?, points_earned = points_earned + ?
			WHERE merchant_id = ? AND sku = ?`, ev.StockAfter, ev.Quantity, ev.Points, ev.MerchantID, ev.SKU)
	}
	return nil
}

func exec(ctx context.Context, tx *projection.Tx, query string, args ...any) error {
	_, err := tx.Exec(ctx, query, args...)
	return err
}

// opened inserts (or, replayed into a table that has it, rewrites) an
// account as it opens.
func opened(ctx context.Context, tx *projection.Tx, ev account.AccountOpened) error {
	at := stamp(ev.OpenedAt)
	return exec(ctx, tx, `INSERT INTO {accounts} (id, kind, status, name, email, phone, business_name, department,
			registration_number, household_size, sponsor_charity_id, opened_at, last_activity_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, status = excluded.status, name = excluded.name,
			email = excluded.email, phone = excluded.phone, business_name = excluded.business_name,
			department = excluded.department, registration_number = excluded.registration_number,
			household_size = excluded.household_size, sponsor_charity_id = excluded.sponsor_charity_id,
			opened_at = excluded.opened_at, last_activity_at = excluded.last_activity_at`,
		ev.AccountID, string(ev.Kind), string(ev.Status), ev.Name, ev.Email, ev.Phone, ev.BusinessName, ev.Department,
		ev.RegistrationNumber, int64(ev.HouseholdSize), ev.SponsorCharityID, at, at)
}

// balance records the balance a ledger entry left, which the entry
// carries, so no sum is needed.
func balance(ctx context.Context, tx *projection.Tx, id string, bal int64, at time.Time) error {
	if err := exec(ctx, tx, `UPDATE {accounts} SET balance = ? WHERE id = ?`, bal, id); err != nil {
		return err
	}
	return touch(ctx, tx, id, at)
}

// touch moves last_activity_at forward, never back.
func touch(ctx context.Context, tx *projection.Tx, id string, at time.Time) error {
	s := stamp(at)
	return exec(ctx, tx, `UPDATE {accounts} SET last_activity_at = ? WHERE id = ? AND last_activity_at < ?`, s, id, s)
}

// record upserts a transaction: its record event is the only one that
// writes its row, so a second write can only carry the same values.
func record(ctx context.Context, tx *projection.Tx, t Transaction) error {
	return exec(ctx, tx, `INSERT INTO {transactions} (id, kind, from_id, to_id, points, bonus, merchant_id, sku, quantity,
			rule_version, at, note)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, from_id = excluded.from_id, to_id = excluded.to_id,
			points = excluded.points, bonus = excluded.bonus, merchant_id = excluded.merchant_id, sku = excluded.sku,
			quantity = excluded.quantity, rule_version = excluded.rule_version, at = excluded.at, note = excluded.note`,
		t.ID, t.Kind, t.FromID, t.ToID, t.Points, t.Bonus, t.MerchantID, t.SKU, t.Quantity, int64(t.RuleVersion),
		stamp(t.At), t.Note)
}
