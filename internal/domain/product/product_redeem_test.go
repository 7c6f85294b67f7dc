package product_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/product"
)

func TestRedeem(t *testing.T) {
	state := spec.Given(t, listed).When(redeemCmd(3)).Then(redeemed(3, 40, 7))
	if state.Stock != 7 || state.UnitsSold != 3 || state.PointsEarned != 120 {
		t.Errorf("state after redeeming = %+v", state)
	}

	t.Run("the last units", func(t *testing.T) {
		spec.Given(t, listed).When(redeemCmd(10)).Then(redeemed(10, 40, 0))
	})
	t.Run("at the price the client saw", func(t *testing.T) {
		cmd := redeemCmd(1)
		cmd.ExpectedPrice = 40
		spec.Given(t, listed).When(cmd).Then(redeemed(1, 40, 9))
	})
	t.Run("sales add up across prices", func(t *testing.T) {
		repriced := product.ProductRepriced{MerchantID: "m-1", SKU: "TEA-green_1", PricePoints: 50, PreviousPrice: 40, RepricedAt: t1}
		state := spec.Given(t, listed, redeemed(2, 40, 8), repriced).When(redeemCmd(1)).Then(redeemed(1, 50, 7))
		if state.UnitsSold != 3 || state.PointsEarned != 130 {
			t.Errorf("sold %d for %d points, want 3 for 130", state.UnitsSold, state.PointsEarned)
		}
	})
}

func TestRedeemRejects(t *testing.T) {
	sold := redeemed(8, 40, 2)
	repriced := product.ProductRepriced{MerchantID: "m-1", SKU: "TEA-green_1", PricePoints: 45, PreviousPrice: 40, RepricedAt: t1}
	tests := []struct {
		name   string
		given  []any
		change func(*product.Redeem)
		code   string
		field  string
	}{
		{"no transaction", []any{listed}, func(c *product.Redeem) { c.TxID = "" }, domain.CodeInvalid, "tx_id"},
		{"no redeemer", []any{listed}, func(c *product.Redeem) { c.RedeemerID = "" }, domain.CodeInvalid, "redeemer_id"},
		{"redeemer with space", []any{listed}, func(c *product.Redeem) { c.RedeemerID = "c 1" }, domain.CodeInvalid, "redeemer_id"},
		{"no units", []any{listed}, func(c *product.Redeem) { c.Quantity = 0 }, domain.CodeInvalid, "quantity"},
		{"too many units", []any{listed}, func(c *product.Redeem) { c.Quantity = 101 }, domain.CodeInvalid, "quantity"},
		{"negative expected price", []any{listed}, func(c *product.Redeem) { c.ExpectedPrice = -1 }, domain.CodeInvalid, "expected_price"},
		{"no voucher", []any{listed}, func(c *product.Redeem) { c.Voucher = "" }, domain.CodeInvalid, "voucher"},
		{"short voucher", []any{listed}, func(c *product.Redeem) { c.Voucher = "AB12" }, domain.CodeInvalid, "voucher"},
		{"voucher with _", []any{listed}, func(c *product.Redeem) { c.Voucher = "VCH_12345678" }, domain.CodeInvalid, "voucher"},
		{"long voucher", []any{listed}, func(c *product.Redeem) { c.Voucher = strings.Repeat("V", 65) }, domain.CodeInvalid, "voucher"},
		{"no time", []any{listed}, func(c *product.Redeem) { c.At = time.Time{} }, domain.CodeInvalid, "at"},
		{"unknown product", nil, func(*product.Redeem) {}, domain.CodeNotFound, ""},
		{"delisted", []any{listed, delisted}, func(*product.Redeem) {}, domain.CodeConflict, ""},
		{"own product", []any{listed}, func(c *product.Redeem) { c.RedeemerID = "m-1" }, domain.CodeForbidden, "redeemer_id"},
		{"price changed", []any{listed, repriced}, func(c *product.Redeem) { c.ExpectedPrice = 40 }, domain.CodeConflict, "expected_price"},
		{"more than the stock", []any{listed, sold}, func(c *product.Redeem) { c.Quantity = 3 }, product.CodeInsufficientStock, "quantity"},
		{"out of stock", []any{listed, redeemed(10, 40, 0)}, func(*product.Redeem) {}, product.CodeInsufficientStock, "quantity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := redeemCmd(1)
			tt.change(&cmd)
			spec.Given(t, tt.given...).When(cmd).ThenError(tt.code, tt.field)
		})
	}
	t.Run("message names the stock", func(t *testing.T) {
		err := spec.Given(t, listed, sold).When(redeemCmd(5)).ThenError(product.CodeInsufficientStock, "quantity")
		if !strings.Contains(err.Message, "only 2 unit(s) left") {
			t.Errorf("message %q does not name the stock", err.Message)
		}
	})
}
