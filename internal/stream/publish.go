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
	stream, msg, err := b.message(e)
	if err != nil {
		return PublishResult{}, err
	}
	ack, err := b.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(b.StreamName(stream)))
	if err != nil {
		return PublishResult{}, fmt.Errorf("stream: publish event %s to %s: %w", e.ID, stream, err)
	}
	return PublishResult{Stream: stream, Sequence: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// message is the JetStream message of an event and the stream it goes to.
func (b *Broker) message(e eventstore.Event) (string, *nats.Msg, error) {
	stream, ok := StreamFor(e.Category())
	if !ok {
		return "", nil, fmt.Errorf("stream: publish event %s: category %q of stream %q maps to no stream", e.ID, e.Category(), e.StreamID)
	}
	if err := checkToken("event type", e.Type); err != nil {
		return "", nil, fmt.Errorf("publish event %s: %w", e.ID, err)
	}
	body, err := Encode(e, b.cfg.Source)
	if err != nil {
		return "", nil, err
	}
	msg := nats.NewMsg(b.subject(stream, e.Type))
	msg.Data = body
	msg.Header.Set(jetstream.MsgIDHeader, e.ID.String())
	return stream, msg, nil
}

// errWrongLastMsgID is JetStream's answer to a publish whose expected last
// message id is not the stream's last.
const errWrongLastMsgID jetstream.ErrorCode = 10070

// PublishBatch publishes events in order, as Publish does, but sends them
// all before waiting for any acknowledgement: one round trip for the batch
// instead of one per event, which is what lets a relay keep up with a busy
// event store. It returns the results of the leading events the streams
// hold, in order, and the error that stopped it, if any; the events after
// that one are to be published again.
//
// Sending without waiting must not let a later event of a stream overtake
// an earlier one that failed (a timeout, a stream changing leader, a retry
// inside the client). So each event but a stream's first in the batch
// expects the previous one as the stream's last message: once one is not
// stored, none of its successors in that stream are either. A duplicate is
// checked before that expectation, so publishing again what a stream
// already holds still goes through. When the expectation fails although
// every earlier event went in (another message came between, such as a
// redrive, or a late event went in ahead of duplicates), the rest is sent
// again as a new chain.
func (b *Broker) PublishBatch(ctx context.Context, events []eventstore.Event) ([]PublishResult, error) {
	out := make([]PublishResult, 0, len(events))
	for len(out) < len(events) {
		res, err := b.publishChain(ctx, events[len(out):])
		progress := len(res)
		out = append(out, res...)
		var apiErr *jetstream.APIError
		if err == nil || (progress > 0 && errors.As(err, &apiErr) && apiErr.ErrorCode == errWrongLastMsgID) {
			continue // a stream's first event in a chain expects nothing, so each new chain gets further
		}
		return out, err
	}
	return out, nil
}

// publishChain sends events with each chained to the previous one of its
// stream, then waits for the acknowledgements in order.
func (b *Broker) publishChain(ctx context.Context, events []eventstore.Event) ([]PublishResult, error) {
	type sent struct {
		stream string
		ack    jetstream.PubAckFuture
	}
	pending := make([]sent, 0, len(events))
	last := map[string]string{} // stream -> message id of its previous event in the chain
	var sendErr error
	for _, e := range events {
		stream, msg, err := b.message(e)
		if err != nil {
			sendErr = err
			break
		}
		opts := []jetstream.PublishOpt{jetstream.WithExpectStream(b.StreamName(stream))}
		if prev, ok := last[stream]; ok {
			opts = append(opts, jetstream.WithExpectLastMsgID(prev))
		}
		f, err := b.js.PublishMsgAsync(msg, opts...)
		if err != nil {
			sendErr = fmt.Errorf("stream: publish event %s to %s: %w", e.ID, stream, err)
			break
		}
		last[stream] = e.ID.String()
		pending = append(pending, sent{stream, f})
	}
	out := make([]PublishResult, 0, len(pending))
	for i, p := range pending {
		select {
		case ack := <-p.ack.Ok():
			out = append(out, PublishResult{Stream: p.stream, Sequence: ack.Sequence, Duplicate: ack.Duplicate})
		case err := <-p.ack.Err():
			return out, fmt.Errorf("stream: publish event %s to %s: %w", events[i].ID, p.stream, err)
		case <-ctx.Done():
			return out, fmt.Errorf("stream: publish event %s to %s: %w", events[i].ID, p.stream, ctx.Err())
		}
	}
	return out, sendErr
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
