// Package stream carries recorded events from the event store to everything
// downstream: read models, sinks, automations.
//
// NATS JetStream is the stream engine. By default the broker runs an embedded
// JetStream server in-process, so a single binary on a laptop has durable,
// replayable streams without another service; pointing Config.URL at a
// cluster scales the same code out. Events travel as CloudEvents 1.0
// structured JSON so that any consumer, ours or not, can read them.
//
// Publishing sets the JetStream message id to the event id: the outbox relay
// may publish an event twice (after a crash, or when it re-checks the stream
// on start) and JetStream drops the second copy within the duplicate window.
//
// Consumers are durable pull consumers. A handler's message is acknowledged
// only after the handler returned nil, failures are retried with backoff,
// and a message that keeps failing is parked in the dead-letter stream,
// where staff can inspect it and redrive it.
package stream
