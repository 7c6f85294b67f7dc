package product

import (
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
)

// Events are the facts the product stream records: plain structs with
// snake_case JSON names, written at schema version 1 (see Register). None
// carries personal data: a product is a merchant's offer, and a redemption
// names the redeemer by account id only.

// ProductListed records a new product on sale.
type ProductListed struct {
	MerchantID  string    `json:"merchant_id"`
	SKU         string    `json:"sku"`
	Name        string    `json:"name"`
	PricePoints int64     `json:"price_points"`
	Stock       int64     `json:"stock"`
	ListedAt    time.Time `json:"listed_at"`
}

// ProductRestocked records units added to the stock.
type ProductRestocked struct {
	MerchantID string `json:"merchant_id"`
	SKU        string `json:"sku"`
	Quantity   int64  `json:"quantity"`
	// StockAfter is the stock after this event, so that a reader of one
	// event need not replay the stream to show it.
	StockAfter  int64     `json:"stock_after"`
	RestockedAt time.Time `json:"restocked_at"`
}

// ProductRepriced records a new unit price.
type ProductRepriced struct {
	MerchantID    string `json:"merchant_id"`
	SKU           string `json:"sku"`
	PricePoints   int64  `json:"price_points"`
	PreviousPrice int64  `json:"previous_price"`
	// RepricedAt is when the new price applies.
	RepricedAt time.Time `json:"repriced_at"`
}

// ProductDelisted records that the product was taken off sale.
type ProductDelisted struct {
	MerchantID string    `json:"merchant_id"`
	SKU        string    `json:"sku"`
	DelistedAt time.Time `json:"delisted_at"`
}

// ProductRedeemed records units sold for points. Points is UnitPrice times
// Quantity, recorded rather than recomputed so that the merchant's sales
// stay right whatever the price becomes later.
type ProductRedeemed struct {
	TxID       string `json:"tx_id"`
	RedeemerID string `json:"redeemer_id"`
	MerchantID string `json:"merchant_id"`
	SKU        string `json:"sku"`
	Quantity   int64  `json:"quantity"`
	UnitPrice  int64  `json:"unit_price"`
	Points     int64  `json:"points"`
	// Voucher is the code the redeemer shows to collect the goods.
	Voucher    string    `json:"voucher"`
	StockAfter int64     `json:"stock_after"`
	RedeemedAt time.Time `json:"redeemed_at"`
}

// Registrar is the domain's (see domain.Registrar); the alias keeps this
// package's Register signature readable on its own.
type Registrar = domain.Registrar

// Register declares the product events to reg. A schema change bumps a
// version here and comes with an upcaster in the codec, so old events still
// read.
func Register(reg Registrar) {
	reg.Add("ProductListed", 1, ProductListed{})
	reg.Add("ProductRestocked", 1, ProductRestocked{})
	reg.Add("ProductRepriced", 1, ProductRepriced{})
	reg.Add("ProductDelisted", 1, ProductDelisted{})
	reg.Add("ProductRedeemed", 1, ProductRedeemed{})
}
