package stream

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of a dead-lettered message: who gave up on it, why, and where it
// came from, so a person can judge it and Redrive can send it back.
const (
	HeaderConsumer         = "Bluepoint-Consumer"
	HeaderError            = "Bluepoint-Error"
	HeaderOriginalSubject  = "Bluepoint-Original-Subject"
	HeaderOriginalStream   = "Bluepoint-Original-Stream"
	HeaderAttempts         = "Bluepoint-Attempts"
	HeaderOriginalSequence = "Bluepoint-Original-Sequence"
	HeaderOriginalMsgID    = "Bluepoint-Original-Msg-Id"
	// HeaderRedriveFor marks a redriven message with the consumer it is for;
	// the other consumers of the stream handled it already and skip it.
	HeaderRedriveFor = "Bluepoint-Redrive-For"
)

// redriveMarker separates an event id from the redrive count in the message
// id of a redriven copy.
const redriveMarker = "-redrive-"

// ErrDeadLetterNotFound is returned by Redrive for a sequence the dead-letter
// stream does not hold (never parked, or redriven already).
var ErrDeadLetterNotFound = errors.New("stream: dead letter not found")

// DeadLetter is a message a consumer gave up on.
type DeadLetter struct {
	// Sequence identifies it in the dead-letter stream; pass it to Redrive.
	Sequence uint64
	// Consumer is the durable name of the consumer that gave up.
	Consumer string
	// Error is the handler's last error.
	Error string
	// Subject and Stream are where the message was published.
	Subject, Stream string
	// Attempts is the number of deliveries before it was parked.
	Attempts int
	// Event is the parked event; zero when the body could not be decoded
	// (Error then says why).
	Event eventstore.Event
	// At is when it was parked.
	At time.Time
}

// DeadLetters lists parked messages, oldest first: those of one consumer, or
// of all when consumer is "". limit caps the list; 0 means no cap.
func (b *Broker) DeadLetters(ctx context.Context, consumer string, limit int) ([]DeadLetter, error) {
	dls, _, err := b.DeadLetterPage(ctx, &DeadLetterPageParams{Consumer: consumer, Limit: limit})
	return dls, err
}

// DeadLetterPageParams asks for one page of parked messages.
type DeadLetterPageParams struct {
	// Consumer keeps the messages one consumer parked; "" keeps all.
	Consumer string
	// Limit is the most messages a page holds; 0 means no limit, one page.
	Limit int
	// Cursor is "" for the first page, then the next cursor a page returned.
	Cursor string
}

// DeadLetterPage lists parked messages a page at a time, oldest first (in
// the order of the dead-letter stream), and returns the cursor of the next
// page, "" after the last. The cursor is a stream sequence, so a walk is
// not disturbed by messages parked or redriven meanwhile: new ones come on
// later pages, and redriven ones are no longer there. A cursor this method
// did not return is a domain invalid error on the field "cursor".
func (b *Broker) DeadLetterPage(ctx context.Context, p *DeadLetterPageParams) ([]DeadLetter, string, error) {
	filter := b.subjectPrefix(DeadLetterStream) + ">"
	if p.Consumer != "" {
		if err := checkToken("consumer name", p.Consumer); err != nil {
			return nil, "", err
		}
		filter = b.subject(DeadLetterStream, p.Consumer)
	}
	seq := uint64(1)
	if p.Cursor != "" {
		after, err := decodeDeadLetterCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		seq = after + 1
	}
	s, err := b.js.Stream(ctx, b.StreamName(DeadLetterStream))
	if err != nil {
		return nil, "", fmt.Errorf("stream: dead letters: %w", err)
	}
	var out []DeadLetter
	// One message past the page tells that another page follows.
	for p.Limit <= 0 || len(out) <= p.Limit {
		m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return nil, "", fmt.Errorf("stream: dead letters from %d: %w", seq, err)
		}
		out = append(out, parseDeadLetter(m))
		seq = m.Sequence + 1
	}
	if p.Limit <= 0 || len(out) <= p.Limit {
		return out, "", nil
	}
	out = out[:p.Limit]
	return out, encodeDeadLetterCursor(out[p.Limit-1].Sequence), nil
}

// A dead-letter cursor is the last listed sequence, base64url-encoded so
// that clients treat it as opaque, as they do the read models' cursors.
func encodeDeadLetterCursor(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(seq, 10)))
}

func decodeDeadLetterCursor(c string) (uint64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if seq, err := strconv.ParseUint(string(b), 10, 64); err == nil && seq > 0 && seq < math.MaxUint64 {
			return seq, nil
		}
	}
	return 0, domain.Invalid("cursor", "is not a cursor this listing returned")
}

func parseDeadLetter(m *jetstream.RawStreamMsg) DeadLetter {
	attempts, _ := strconv.Atoi(m.Header.Get(HeaderAttempts))
	e, _ := Decode(m.Data) // an undecodable body was parked for that reason
	return DeadLetter{
		Sequence: m.Sequence,
		Consumer: m.Header.Get(HeaderConsumer),
		Error:    m.Header.Get(HeaderError),
		Subject:  m.Header.Get(HeaderOriginalSubject),
		Stream:   m.Header.Get(HeaderOriginalStream),
		Attempts: attempts,
		Event:    e,
		At:       m.Time,
	}
}

// Redrive sends a parked message back to its stream, for the consumer that
// parked it, and removes it from the dead-letter stream. The copy gets the
// message id "<event id>-redrive-<seq>" so the duplicate check does not drop
// it (the event id inside is unchanged), and a Redrive repeated after a crash
// between its two steps is still dropped as a duplicate.
func (b *Broker) Redrive(ctx context.Context, seq uint64) error {
	s, err := b.js.Stream(ctx, b.StreamName(DeadLetterStream))
	if err != nil {
		return fmt.Errorf("stream: redrive %d: %w", seq, err)
	}
	m, err := s.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("%w: sequence %d", ErrDeadLetterNotFound, seq)
	}
	if err != nil {
		return fmt.Errorf("stream: redrive %d: %w", seq, err)
	}
	origStream := m.Header.Get(HeaderOriginalStream)
	subject := m.Header.Get(HeaderOriginalSubject)
	if !isEventStream(origStream) || !strings.HasPrefix(subject, b.subjectPrefix(origStream)) {
		return fmt.Errorf("stream: redrive %d: bad origin %q on stream %q", seq, subject, origStream)
	}
	id := m.Header.Get(HeaderOriginalMsgID)
	if id == "" {
		if e, err := Decode(m.Data); err == nil {
			id = e.ID.String()
		}
	}
	out := nats.NewMsg(subject)
	out.Data = m.Data
	out.Header.Set(jetstream.MsgIDHeader, id+redriveMarker+strconv.FormatUint(seq, 10))
	out.Header.Set(HeaderRedriveFor, m.Header.Get(HeaderConsumer))
	if _, err := b.js.PublishMsg(ctx, out, jetstream.WithExpectStream(b.StreamName(origStream))); err != nil {
		return fmt.Errorf("stream: redrive %d to %s: %w", seq, subject, err)
	}
	if err := s.DeleteMsg(ctx, seq); err != nil {
		return fmt.Errorf("stream: redrive %d: delete: %w", seq, err)
	}
	return nil
}
