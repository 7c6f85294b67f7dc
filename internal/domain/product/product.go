package product

import "time"

// Category is the event-stream category of products: SKU "TEA-1" of merchant
// "m-7" lives in the stream "product-m-7_TEA-1".
const Category = "product"

// StreamID returns the stream of the product sku of merchant merchantID. An
// SKU may hold "_", so the pair is unambiguous only because List refuses a
// merchant id with "_" in it (see List).
func StreamID(merchantID, sku string) string {
	return Category + "-" + merchantID + "_" + sku
}

// CodeInsufficientStock is the domain.Error code of a redemption that asks
// for more units than are in stock. It is a code of its own, not a conflict,
// because a client reacts to it differently: it can offer fewer units.
const CodeInsufficientStock = "insufficient_stock"

// Status is where a product is in its life: listed, then maybe delisted.
type Status string

// The statuses. None is the status of a product that was never listed.
const (
	None     Status = ""
	Listed   Status = "listed"
	Delisted Status = "delisted"
)

// State is a product as its events built it. The zero value (see Initial) is
// a product that was never listed.
type State struct {
	MerchantID string
	SKU        string
	Name       string
	Status     Status
	// PricePoints is the price of one unit, in points.
	PricePoints int64
	// Stock is the number of units left; never negative.
	Stock int64
	// UnitsSold and PointsEarned add up every redemption, so that the
	// merchant's sales are read from the product without a projection.
	UnitsSold    int64
	PointsEarned int64
	ListedAt     time.Time
	DelistedAt   time.Time
}

// Initial returns the state before the first event: no product.
func Initial() State { return State{} }

// Exists reports whether the product was ever listed.
func (s State) Exists() bool { return s.Status != None }
