package stream

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PublishResult is where JetStream stored a published event.
type PublishResult struct {
	// Stream is the stream the event went to (without the prefix).
	Stream string
	// Sequence is the message's sequence in the stream; for a duplicate, the
	// sequence of the copy stored first.
	Sequence uint64
	// Duplicate reports that the stream already held this event id, within
	// the duplicate window, and dropped this copy.
	Duplicate bool
}

// Publish sends a recorded event to the stream of its category, as a
// CloudEvent, with the event id as the JetStream message id, and waits for
// JetStream's acknowledgement. Publishing the same event again within the
// duplicate window stores nothing and reports Duplicate.
func (b *Broker) Publish(ctx context.Context, e eventstore.Event) (PublishResult, error) {
	stream, ok := StreamFor(e.Category())
	if !ok {
		return PublishResult{}, fmt.Errorf("stream: publish event %s: category %q of stream %q maps to no stream", e.ID, e.Category(), e.StreamID)
	}
	if err := checkToken("event type", e.Type); err != nil {
		return PublishResult{}, fmt.Errorf("publish event %s: %w", e.ID, err)
	}
	body, err := Encode(e, b.cfg.Source)
	if err != nil {
		return PublishResult{}, err
	}
	msg := nats.NewMsg(b.subject(stream, e.Type))
	msg.Data = body
	msg.Header.Set(jetstream.MsgIDHeader, e.ID.String())
	ack, err := b.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(b.StreamName(stream)))
	if err != nil {
		return PublishResult{}, fmt.Errorf("stream: publish event %s to %s: %w", e.ID, stream, err)
	}
	return PublishResult{Stream: stream, Sequence: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// LastEventID returns the id of the last event published to a stream, and
// false when the stream holds none. The outbox relay compares it with the
// outbox on start to find what an unclean stop lost. Redriven copies of old
// events are skipped: they say nothing about how far publishing got.
func (b *Broker) LastEventID(ctx context.Context, stream string) (uuid.UUID, bool, error) {
	if !isEventStream(stream) {
		return uuid.Nil, false, fmt.Errorf("stream: %q is not an event stream", stream)
	}
	s, err := b.js.Stream(ctx, b.StreamName(stream))
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("stream: last event of %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("stream: last event of %s: %w", stream, err)
	}
	for seq := info.State.LastSeq; seq >= info.State.FirstSeq && seq > 0; seq-- {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // deleted
		}
		if err != nil {
			return uuid.Nil, false, fmt.Errorf("stream: last event of %s: message %d: %w", stream, seq, err)
		}
		msgID := m.Header.Get(jetstream.MsgIDHeader)
		if strings.Contains(msgID, redriveMarker) {
			continue
		}
		id, err := uuid.Parse(msgID)
		if err != nil {
			return uuid.Nil, false, fmt.Errorf("stream: last event of %s: message %d has message id %q: %w", stream, seq, msgID, err)
		}
		return id, true, nil
	}
	return uuid.Nil, false, nil
}
