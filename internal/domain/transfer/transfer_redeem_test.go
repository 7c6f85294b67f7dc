package transfer_test

import (
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/product"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
)

// tea returns the product "TEA" of merchant m-1 at 40 points with stock
// units.
func tea(stock int64) product.State {
	return product.Evolve(product.Initial(), product.ProductListed{
		MerchantID: "m-1", SKU: "TEA", Name: "Tea", PricePoints: 40, Stock: stock, ListedAt: t0})
}

func redeemCmd(quantity int64) product.Redeem {
	return product.Redeem{TxID: "tx-1", RedeemerID: "c-1", Quantity: quantity, Voucher: "VCH-00000001", At: t2}
}

func TestRedemption(t *testing.T) {
	buyer := acct("c-1", account.Civilian, account.Active, 100)
	shop := acct("m-1", account.Merchant, account.Active, 7)
	out, err := transfer.DecideRedemption(buyer, shop, tea(5), redeemCmd(2), pricing(map[string]int64{transfer.PartyRedeemer: 3}))
	if err != nil {
		t.Fatal(err)
	}
	sale := product.ProductRedeemed{TxID: "tx-1", RedeemerID: "c-1", MerchantID: "m-1", SKU: "TEA", Quantity: 2,
		UnitPrice: 40, Points: 80, Voucher: "VCH-00000001", StockAfter: 3, RedeemedAt: t2}
	same(t, out,
		transfer.StreamEvents{StreamID: "account-c-1", Events: []any{
			debit("c-1", 80, 20, "redemption", "tx-1", t2), credit("c-1", 3, 23, "redemption bonus", "tx-1", t2)}},
		transfer.StreamEvents{StreamID: "account-m-1", Events: []any{credit("m-1", 80, 87, "redemption", "tx-1", t2)}},
		transfer.StreamEvents{StreamID: "product-m-1_TEA", Events: []any{sale}},
		transfer.StreamEvents{StreamID: "redemption-tx-1", Events: []any{transfer.RedemptionMade{
			TxID: "tx-1", RedeemerID: "c-1", MerchantID: "m-1", SKU: "TEA", Quantity: 2, UnitPrice: 40, Points: 80,
			Bonus: 3, RuleVersion: 3, Voucher: "VCH-00000001", RedeemedAt: t2}}},
	)
}

func TestRedemptionRejects(t *testing.T) {
	buyer := acct("c-1", account.Civilian, account.Active, 100)
	shop := acct("m-1", account.Merchant, account.Active, 0)
	allowed := pricing(nil)
	delisted := product.Evolve(tea(5), product.ProductDelisted{MerchantID: "m-1", SKU: "TEA", DelistedAt: t1})
	tests := []struct {
		name            string
		redeemer, owner account.State
		prod            product.State
		change          func(*product.Redeem)
		p               transfer.Pricing
		code            string
		field           string
	}{
		{"no voucher", buyer, shop, tea(5), func(c *product.Redeem) { c.Voucher = "" }, allowed, domain.CodeInvalid, "voucher"},
		{"no such product", buyer, shop, product.Initial(), func(*product.Redeem) {}, allowed, domain.CodeNotFound, "sku"},
		{"delisted", buyer, shop, delisted, func(*product.Redeem) {}, allowed, domain.CodeConflict, "sku"},
		{"out of stock", buyer, shop, tea(1), func(c *product.Redeem) { c.Quantity = 2 }, allowed, product.CodeInsufficientStock, "quantity"},
		{"stale price", buyer, shop, tea(5), func(c *product.Redeem) { c.ExpectedPrice = 35 }, allowed, domain.CodeConflict, "expected_price"},
		{"merchant buys its own", shop, shop, tea(5), func(c *product.Redeem) { c.RedeemerID = "m-1" }, allowed, domain.CodeForbidden, "redeemer_id"},
		{"unknown redeemer", account.Initial(), shop, tea(5), func(*product.Redeem) {}, allowed, domain.CodeNotFound, "redeemer_id"},
		{"closed redeemer", acct("c-1", account.Civilian, account.Closed, 100), shop, tea(5), func(*product.Redeem) {}, allowed, domain.CodeAccountClosed, "redeemer_id"},
		{"pending redeemer", acct("c-1", account.Family, account.Pending, 0), shop, tea(5), func(*product.Redeem) {}, allowed, domain.CodeAccountPending, "redeemer_id"},
		{"unknown merchant", buyer, account.Initial(), tea(5), func(*product.Redeem) {}, allowed, domain.CodeNotFound, "merchant_id"},
		{"closed merchant", buyer, acct("m-1", account.Merchant, account.Closed, 0), tea(5), func(*product.Redeem) {}, allowed, domain.CodeAccountClosed, "merchant_id"},
		{"seller not a merchant", buyer, acct("m-1", account.Charity, account.Active, 0), tea(5), func(*product.Redeem) {}, allowed, domain.CodeInvalid, "merchant_id"},
		{"more than the balance", buyer, shop, tea(5), func(c *product.Redeem) { c.Quantity = 3 }, allowed, domain.CodeInsufficientFunds, "quantity"},
		{"rules refuse", buyer, shop, tea(5), func(*product.Redeem) {}, refused, transfer.CodeRuleRefused, ""},
		{"negative bonus", buyer, shop, tea(5), func(*product.Redeem) {}, pricing(map[string]int64{"redeemer": -2}), domain.CodeInvalid, "pricing.points.redeemer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := redeemCmd(1)
			tt.change(&cmd)
			out, err := transfer.DecideRedemption(tt.redeemer, tt.owner, tt.prod, cmd, tt.p)
			rejected(t, out, err, tt.code, tt.field)
		})
	}
	t.Run("a merchant state of another account is the handler's mistake", func(t *testing.T) {
		_, err := transfer.DecideRedemption(buyer, acct("m-2", account.Merchant, account.Active, 0), tea(5), redeemCmd(1), allowed)
		if err == nil || domain.As(err) != nil {
			t.Errorf("error = %v, want a plain error", err)
		}
	})
}
