// Package eventstore defines Bluepoint's event store: the one place where every
// change to the platform is recorded, in streams of immutable events.
//
// The store is an interface with two drivers (sqlite and postgres) that pass one
// shared conformance suite (storetest). Drivers store bytes; domain types and
// their serialisation live higher up, so a driver never needs to know what an
// event means.
//
// Besides events, an append writes, in the same transaction, the idempotency
// record of the command that produced them, one outbox row per event (for the
// relay to publish) and the trace steps of the request. Either all of it is
// committed or none of it is.
package eventstore
