package product_test

import (
	"time"

	"github.com/bluepoint/bluepoint/internal/domain/domaintest"
	"github.com/bluepoint/bluepoint/internal/domain/product"
)

// spec runs Given/When/Then scenarios on the product aggregate.
var spec = domaintest.Spec[product.State]{
	Initial: product.Initial,
	Evolve:  product.Evolve,
	Decide:  product.Decide,
}

var (
	t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
	t2 = t0.Add(2 * time.Hour)
)

// listCmd is a valid List command.
var listCmd = product.List{MerchantID: "m-1", SKU: "TEA-green_1", Name: "Green tea", PricePoints: 40, Stock: 10, At: t0}

// listed is the event listCmd produces.
var listed = product.ProductListed{MerchantID: "m-1", SKU: "TEA-green_1", Name: "Green tea", PricePoints: 40, Stock: 10, ListedAt: t0}

// delisted takes the product off sale.
var delisted = product.ProductDelisted{MerchantID: "m-1", SKU: "TEA-green_1", DelistedAt: t1}

// redeemCmd returns a valid Redeem of quantity units.
func redeemCmd(quantity int64) product.Redeem {
	return product.Redeem{TxID: "tx-1", RedeemerID: "c-1", Quantity: quantity, Voucher: "VCH-12345678", At: t2}
}

// redeemed returns the event a redemption of quantity units at price leaves
// with stockAfter units.
func redeemed(quantity, price, stockAfter int64) product.ProductRedeemed {
	return product.ProductRedeemed{
		TxID: "tx-1", RedeemerID: "c-1", MerchantID: "m-1", SKU: "TEA-green_1",
		Quantity: quantity, UnitPrice: price, Points: quantity * price,
		Voucher: "VCH-12345678", StockAfter: stockAfter, RedeemedAt: t2,
	}
}
