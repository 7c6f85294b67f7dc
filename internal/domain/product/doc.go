// Package product is the product aggregate: what a merchant offers for
// points, at which price, and how many units are left.
//
// Like every domain package it is pure functions over plain values:
//
//   - Initial returns the state of a product that was never listed;
//   - Decide(state, command) returns the events a command produces, or a
//     *domain.Error saying which input is wrong and why;
//   - Evolve(state, event) applies one event.
//
// A product lives in the stream "product-<merchantID>_<sku>" (see StreamID),
// so that the stock of one product is guarded by that stream's expected
// version: two redemptions racing for the last unit cannot both be appended.
//
// A redemption needs three aggregates (the redeemer's balance, the
// merchant's balance and this product's stock); package transfer composes
// them. This package only knows the product side: the stock never goes
// negative, a delisted product sells nothing, and a client never pays a
// price it did not see. That the merchant owns the product (the actor of
// List, Restock, Reprice and Delist) is the command handler's check.
package product
