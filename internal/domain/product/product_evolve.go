package product

// Evolve applies one event to the state. It trusts the event (Decide checked
// the command that produced it) and ignores event types it does not know, so
// that an older binary can still fold a stream a newer one wrote to.
//
// The stock is recomputed from the quantities, not copied from StockAfter,
// so that it adds up by construction.
func Evolve(state State, event any) State {
	switch e := event.(type) {
	case ProductListed:
		return State{
			MerchantID:  e.MerchantID,
			SKU:         e.SKU,
			Name:        e.Name,
			Status:      Listed,
			PricePoints: e.PricePoints,
			Stock:       e.Stock,
			ListedAt:    e.ListedAt,
		}
	case ProductRestocked:
		state.Stock += e.Quantity
	case ProductRepriced:
		state.PricePoints = e.PricePoints
	case ProductDelisted:
		state.Status = Delisted
		state.DelistedAt = e.DelistedAt
	case ProductRedeemed:
		state.Stock -= e.Quantity
		state.UnitsSold += e.Quantity
		state.PointsEarned += e.Points
	}
	return state
}
