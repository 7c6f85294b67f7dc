package product

import (
	"fmt"
	"strings"

	"github.com/bluepoint/bluepoint/internal/domain"
)

// Decide returns the events that cmd produces on a product in state, or a
// *domain.Error when the command is refused (then it returns no event, so
// nothing is written). It is pure: the same state and command always give
// the same answer, which is what lets the pipeline retry it on fresh state.
//
// cmd is one of List, Restock, Reprice, Delist or Redeem, as a value. Any
// other type is a programming error and returns a plain error. Input is
// checked before state, so that a malformed command is reported as such
// whatever the product's state.
func Decide(state State, cmd any) ([]any, error) {
	if _, isList := cmd.(List); !isList && known(cmd) && !state.Exists() {
		return nil, domain.NotFound("", "no such product")
	}
	switch c := cmd.(type) {
	case List:
		return list(state, c)
	case Restock:
		return restock(state, c)
	case Reprice:
		return reprice(state, c)
	case Delist:
		return delist(state, c)
	case Redeem:
		return redeem(state, c)
	}
	return nil, fmt.Errorf("product: unknown command %T", cmd)
}

// known reports whether cmd is one of the commands Decide handles.
func known(cmd any) bool {
	switch cmd.(type) {
	case List, Restock, Reprice, Delist, Redeem:
		return true
	}
	return false
}

func list(state State, c List) ([]any, error) {
	if err := id("merchant_id", c.MerchantID); err != nil {
		return nil, err
	}
	if strings.Contains(c.MerchantID, "_") {
		return nil, domain.Invalid("merchant_id", `must not contain "_", which separates it from the sku in the product's stream`)
	}
	if err := code("sku", c.SKU, "-_", 1, maxSKU); err != nil {
		return nil, err
	}
	name, err := text("name", c.Name, maxName)
	if err != nil {
		return nil, err
	}
	if err := within("price_points", c.PricePoints, 1, maxPrice); err != nil {
		return nil, err
	}
	if err := within("stock", c.Stock, 0, maxStock); err != nil {
		return nil, err
	}
	if err := at(c.At); err != nil {
		return nil, err
	}
	if state.Exists() {
		return nil, domain.Conflict("sku", "the merchant already listed a product with this sku")
	}
	return []any{ProductListed{
		MerchantID:  c.MerchantID,
		SKU:         c.SKU,
		Name:        name,
		PricePoints: c.PricePoints,
		Stock:       c.Stock,
		ListedAt:    c.At,
	}}, nil
}

// onSale refuses a command on a delisted product.
func onSale(state State, what string) error {
	if state.Status == Delisted {
		return domain.Conflict("", "the product is delisted and can no longer be %s", what)
	}
	return nil
}

func restock(state State, c Restock) ([]any, error) {
	if err := within("quantity", c.Quantity, 1, maxStock); err != nil {
		return nil, err
	}
	if err := at(c.At); err != nil {
		return nil, err
	}
	if err := onSale(state, "restocked"); err != nil {
		return nil, err
	}
	if c.Quantity > maxStock-state.Stock {
		return nil, domain.Invalid("quantity", "the stock is %d; it can grow by at most %d more units, not %d",
			state.Stock, maxStock-state.Stock, c.Quantity)
	}
	return []any{ProductRestocked{
		MerchantID:  state.MerchantID,
		SKU:         state.SKU,
		Quantity:    c.Quantity,
		StockAfter:  state.Stock + c.Quantity,
		RestockedAt: c.At,
	}}, nil
}

// reprice emits nothing when the price does not change, so that a form
// saved twice does not grow the stream.
func reprice(state State, c Reprice) ([]any, error) {
	if err := within("price_points", c.PricePoints, 1, maxPrice); err != nil {
		return nil, err
	}
	if err := at(c.At); err != nil {
		return nil, err
	}
	if err := onSale(state, "repriced"); err != nil {
		return nil, err
	}
	if c.PricePoints == state.PricePoints {
		return nil, nil
	}
	return []any{ProductRepriced{
		MerchantID:    state.MerchantID,
		SKU:           state.SKU,
		PricePoints:   c.PricePoints,
		PreviousPrice: state.PricePoints,
		RepricedAt:    c.At,
	}}, nil
}

func delist(state State, c Delist) ([]any, error) {
	if err := at(c.At); err != nil {
		return nil, err
	}
	if state.Status == Delisted {
		return nil, domain.Conflict("", "the product is already delisted")
	}
	return []any{ProductDelisted{MerchantID: state.MerchantID, SKU: state.SKU, DelistedAt: c.At}}, nil
}

func redeem(state State, c Redeem) ([]any, error) {
	if err := id("tx_id", c.TxID); err != nil {
		return nil, err
	}
	if err := id("redeemer_id", c.RedeemerID); err != nil {
		return nil, err
	}
	if err := within("quantity", c.Quantity, 1, maxRedeemUnits); err != nil {
		return nil, err
	}
	if err := within("expected_price", c.ExpectedPrice, 0, maxPrice); err != nil {
		return nil, err
	}
	if err := code("voucher", c.Voucher, "-", minVoucher, maxVoucher); err != nil {
		return nil, err
	}
	if err := at(c.At); err != nil {
		return nil, err
	}
	if err := onSale(state, "redeemed"); err != nil {
		return nil, err
	}
	if c.RedeemerID == state.MerchantID {
		return nil, domain.Forbidden("redeemer_id", "a merchant cannot redeem its own products")
	}
	if c.ExpectedPrice > 0 && c.ExpectedPrice != state.PricePoints {
		return nil, domain.Conflict("expected_price", "the price is now %d points a unit, not %d; confirm the new price",
			state.PricePoints, c.ExpectedPrice)
	}
	if c.Quantity > state.Stock {
		return nil, domain.New(CodeInsufficientStock, "quantity", "only %d unit(s) left, %d asked for", state.Stock, c.Quantity)
	}
	return []any{ProductRedeemed{
		TxID:       c.TxID,
		RedeemerID: c.RedeemerID,
		MerchantID: state.MerchantID,
		SKU:        state.SKU,
		Quantity:   c.Quantity,
		UnitPrice:  state.PricePoints,
		Points:     state.PricePoints * c.Quantity,
		Voucher:    c.Voucher,
		StockAfter: state.Stock - c.Quantity,
		RedeemedAt: c.At,
	}}, nil
}
