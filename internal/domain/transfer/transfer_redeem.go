package transfer

import (
	"fmt"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/product"
)

// DecideRedemption decides cmd on the redeemer's account, the merchant's
// account and the product, as the handler loaded them (the product from
// product.StreamID, the merchant from the product's MerchantID).
//
// The product decides the sale (stock, price, voucher) through
// product.Decide. The redeemer is debited the sale's points and credited
// the rules' redeemer bonus; the merchant is credited the sale's points.
// Points are conserved: what the redeemer spends, the merchant earns, so a
// merchant's balance is its sales, and only the bonus is new. Any active
// account may redeem, except the merchant on its own products.
func DecideRedemption(redeemer, merchant account.State, prod product.State, cmd product.Redeem, p Pricing) (Outcome, error) {
	// The product's refusals keep their codes (insufficient_stock, a
	// conflict on expected_price); those naming no field (no such product,
	// delisted) are relabelled "sku", the product the client chose.
	sold, err := product.Decide(prod, cmd)
	if err != nil {
		return Outcome{}, relabel(err, map[string]string{"": "sku"})
	}
	if err := party("redeemer_id", cmd.RedeemerID, redeemer); err != nil {
		return Outcome{}, err
	}
	if merchant.Exists() && merchant.ID != prod.MerchantID {
		return Outcome{}, fmt.Errorf("transfer: the state of account %q was given for the merchant of %s", merchant.ID,
			product.StreamID(prod.MerchantID, prod.SKU))
	}
	if err := party("merchant_id", prod.MerchantID, merchant, account.Merchant); err != nil {
		return Outcome{}, err
	}
	awards, err := price(p, PartyRedeemer)
	if err != nil {
		return Outcome{}, err
	}
	bonus := awards[0]
	var sale product.ProductRedeemed
	if len(sold) == 1 {
		sale, _ = sold[0].(product.ProductRedeemed)
	}
	if sale.TxID == "" {
		return Outcome{}, fmt.Errorf("transfer: product.Decide redeemed with %d event(s), want one ProductRedeemed", len(sold))
	}
	buyer, seller := side{field: "redeemer_id", state: redeemer}, side{field: "merchant_id", state: merchant}
	// An insufficient balance is about how many units were asked for.
	if err := buyer.debit(sale.Points, "quantity", ReasonRedemption, cmd.TxID, cmd.At); err != nil {
		return Outcome{}, err
	}
	if err := buyer.credit(bonus, "pricing.points."+PartyRedeemer, ReasonRedemptionBonus, cmd.TxID, cmd.At); err != nil {
		return Outcome{}, err
	}
	if err := seller.credit(sale.Points, "quantity", ReasonRedemption, cmd.TxID, cmd.At); err != nil {
		return Outcome{}, err
	}
	record := RedemptionMade{
		TxID: cmd.TxID, RedeemerID: cmd.RedeemerID, MerchantID: sale.MerchantID, SKU: sale.SKU,
		Quantity: sale.Quantity, UnitPrice: sale.UnitPrice, Points: sale.Points, Bonus: bonus,
		RuleVersion: p.RuleVersion, Voucher: sale.Voucher, RedeemedAt: cmd.At,
	}
	return Outcome{Appends: []StreamEvents{
		buyer.append(), seller.append(),
		{StreamID: product.StreamID(prod.MerchantID, prod.SKU), Events: sold},
		{StreamID: RedemptionStreamID(cmd.TxID), Events: []any{record}},
	}}, nil
}
