package outbox

import (
	"context"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// BrokerPublisher adapts the JetStream broker to the relay.
type BrokerPublisher struct{ Broker *stream.Broker }

// Publish implements Publisher; a duplicate counts as published.
func (p BrokerPublisher) Publish(ctx context.Context, e eventstore.Event) (string, error) {
	res, err := p.Broker.Publish(ctx, e)
	return res.Stream, err
}

// PublishBatch implements BatchPublisher.
func (p BrokerPublisher) PublishBatch(ctx context.Context, events []eventstore.Event) ([]string, error) {
	res, err := p.Broker.PublishBatch(ctx, events)
	streams := make([]string, len(res))
	for i, r := range res {
		streams[i] = r.Stream
	}
	return streams, err
}

// LastEventID implements Publisher.
func (p BrokerPublisher) LastEventID(ctx context.Context, name string) (uuid.UUID, bool, error) {
	return p.Broker.LastEventID(ctx, name)
}

// StreamOf implements Publisher.
func (p BrokerPublisher) StreamOf(e eventstore.Event) (string, bool) {
	return stream.StreamFor(e.Category())
}

// Streams implements Publisher.
func (p BrokerPublisher) Streams() []string {
	return []string{stream.Users, stream.Transactions, stream.Catalog, stream.Activity}
}
