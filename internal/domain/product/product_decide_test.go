package product_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/product"
)

func TestStreamID(t *testing.T) {
	if got := product.StreamID("m-1", "TEA_1"); got != "product-m-1_TEA_1" {
		t.Errorf("StreamID = %q", got)
	}
}

func TestList(t *testing.T) {
	cmd := listCmd
	cmd.Name = "  Green tea "
	state := spec.Given(t).When(cmd).Then(listed)
	if state.Status != product.Listed || state.Stock != 10 || state.PricePoints != 40 {
		t.Errorf("state after listing = %+v", state)
	}
	t.Run("no stock yet", func(t *testing.T) {
		cmd := listCmd
		cmd.Stock = 0
		want := listed
		want.Stock = 0
		spec.Given(t).When(cmd).Then(want)
	})
}

func TestListRejects(t *testing.T) {
	tests := []struct {
		name   string
		given  []any
		change func(*product.List)
		code   string
		field  string
	}{
		{"no merchant", nil, func(c *product.List) { c.MerchantID = "" }, domain.CodeInvalid, "merchant_id"},
		{"merchant with _", nil, func(c *product.List) { c.MerchantID = "m_1" }, domain.CodeInvalid, "merchant_id"},
		{"no sku", nil, func(c *product.List) { c.SKU = "" }, domain.CodeInvalid, "sku"},
		{"sku too long", nil, func(c *product.List) { c.SKU = strings.Repeat("A", 65) }, domain.CodeInvalid, "sku"},
		{"sku with space", nil, func(c *product.List) { c.SKU = "TEA 1" }, domain.CodeInvalid, "sku"},
		{"sku not ascii", nil, func(c *product.List) { c.SKU = "THÉ" }, domain.CodeInvalid, "sku"},
		{"no name", nil, func(c *product.List) { c.Name = "  " }, domain.CodeInvalid, "name"},
		{"name too long", nil, func(c *product.List) { c.Name = strings.Repeat("n", 201) }, domain.CodeInvalid, "name"},
		{"name with line break", nil, func(c *product.List) { c.Name = "a\nb" }, domain.CodeInvalid, "name"},
		{"free", nil, func(c *product.List) { c.PricePoints = 0 }, domain.CodeInvalid, "price_points"},
		{"too dear", nil, func(c *product.List) { c.PricePoints = 1_000_001 }, domain.CodeInvalid, "price_points"},
		{"negative stock", nil, func(c *product.List) { c.Stock = -1 }, domain.CodeInvalid, "stock"},
		{"too much stock", nil, func(c *product.List) { c.Stock = 1_000_001 }, domain.CodeInvalid, "stock"},
		{"no time", nil, func(c *product.List) { c.At = time.Time{} }, domain.CodeInvalid, "at"},
		{"listed twice", []any{listed}, func(*product.List) {}, domain.CodeConflict, "sku"},
		{"listed after delisting", []any{listed, delisted}, func(*product.List) {}, domain.CodeConflict, "sku"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := listCmd
			tt.change(&cmd)
			spec.Given(t, tt.given...).When(cmd).ThenError(tt.code, tt.field)
		})
	}
}

func TestRestockRepriceDelist(t *testing.T) {
	state := spec.Given(t, listed).When(product.Restock{Quantity: 5, At: t1}).
		Then(product.ProductRestocked{MerchantID: "m-1", SKU: "TEA-green_1", Quantity: 5, StockAfter: 15, RestockedAt: t1})
	if state.Stock != 15 {
		t.Errorf("stock = %d, want 15", state.Stock)
	}
	state = spec.Given(t, listed).When(product.Reprice{PricePoints: 55, At: t1}).
		Then(product.ProductRepriced{MerchantID: "m-1", SKU: "TEA-green_1", PricePoints: 55, PreviousPrice: 40, RepricedAt: t1})
	if state.PricePoints != 55 {
		t.Errorf("price = %d, want 55", state.PricePoints)
	}
	spec.Given(t, listed).When(product.Reprice{PricePoints: 40, At: t1}).Then()
	state = spec.Given(t, listed).When(product.Delist{At: t1}).Then(delisted)
	if state.Status != product.Delisted || state.DelistedAt != t1 {
		t.Errorf("state after delisting = %+v", state)
	}
}

func TestRestockRepriceDelistRejects(t *testing.T) {
	full := product.ProductRestocked{MerchantID: "m-1", SKU: "TEA-green_1", Quantity: 999_990, StockAfter: 1_000_000, RestockedAt: t1}
	tests := []struct {
		name  string
		given []any
		cmd   any
		code  string
		field string
	}{
		{"restock nothing", []any{listed}, product.Restock{Quantity: 0, At: t1}, domain.CodeInvalid, "quantity"},
		{"restock negative", []any{listed}, product.Restock{Quantity: -3, At: t1}, domain.CodeInvalid, "quantity"},
		{"restock past the cap", []any{listed, full}, product.Restock{Quantity: 1, At: t1}, domain.CodeInvalid, "quantity"},
		{"restock without time", []any{listed}, product.Restock{Quantity: 1}, domain.CodeInvalid, "at"},
		{"restock unknown", nil, product.Restock{Quantity: 1, At: t1}, domain.CodeNotFound, ""},
		{"restock delisted", []any{listed, delisted}, product.Restock{Quantity: 1, At: t1}, domain.CodeConflict, ""},
		{"reprice free", []any{listed}, product.Reprice{PricePoints: 0, At: t1}, domain.CodeInvalid, "price_points"},
		{"reprice too dear", []any{listed}, product.Reprice{PricePoints: 2_000_000, At: t1}, domain.CodeInvalid, "price_points"},
		{"reprice without time", []any{listed}, product.Reprice{PricePoints: 3}, domain.CodeInvalid, "at"},
		{"reprice unknown", nil, product.Reprice{PricePoints: 3, At: t1}, domain.CodeNotFound, ""},
		{"reprice delisted", []any{listed, delisted}, product.Reprice{PricePoints: 3, At: t1}, domain.CodeConflict, ""},
		{"delist without time", []any{listed}, product.Delist{}, domain.CodeInvalid, "at"},
		{"delist unknown", nil, product.Delist{At: t1}, domain.CodeNotFound, ""},
		{"delist twice", []any{listed, delisted}, product.Delist{At: t2}, domain.CodeConflict, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec.Given(t, tt.given...).When(tt.cmd).ThenError(tt.code, tt.field)
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	events, err := product.Decide(product.Initial(), "sell")
	if err == nil || domain.As(err) != nil || events != nil {
		t.Errorf("Decide(unknown) = %v, %v; want a plain error", events, err)
	}
}
