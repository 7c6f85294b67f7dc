package stream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/testenv"
	"github.com/google/uuid"
)

// forEachBroker runs a test on an embedded server and on the external NATS
// (skipped when none is configured). On the shared external server each run
// gets its own prefix and deletes its streams at the end.
func forEachBroker(t *testing.T, fn func(t *testing.T, b *Broker)) {
	t.Run("embedded", func(t *testing.T) {
		fn(t, openBroker(t, Config{StoreDir: t.TempDir()}))
	})
	t.Run("external", func(t *testing.T) {
		url := testenv.NATS(t)
		fn(t, openBroker(t, Config{URL: url, Prefix: randomPrefix(t)}))
	})
}

// openBroker opens a broker that is closed (and, when prefixed, whose
// streams are deleted) at the end of the test.
func openBroker(t *testing.T, cfg Config) *Broker {
	t.Helper()
	b, err := Open(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if cfg.Prefix != "" {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for _, s := range append(append([]string(nil), eventStreams...), DeadLetterStream) {
				if err := b.JetStream().DeleteStream(ctx, b.StreamName(s)); err != nil {
					t.Errorf("delete stream %s: %v", b.StreamName(s), err)
				}
			}
		})
	}
	return b
}

func randomPrefix(t *testing.T) string {
	t.Helper()
	var p [6]byte
	if _, err := rand.Read(p[:]); err != nil {
		t.Fatal(err)
	}
	return "t" + hex.EncodeToString(p[:]) + "_"
}

// testCtx is cancelled when the test ends, and after at most a minute.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newEvent returns a recorded event of a category with a fresh stream id.
// newEvents makes n events of one type, at versions 1 to n.
func newEvents(t *testing.T, category, typ string, n int) []eventstore.Event {
	t.Helper()
	events := make([]eventstore.Event, 0, n)
	for i := range n {
		events = append(events, newEvent(t, category, typ, int64(i+1)))
	}
	return events
}

func newEvent(t testing.TB, category, typ string, version int64) eventstore.Event {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	return eventstore.Event{
		ID:            id,
		StreamID:      eventstore.StreamID(category, uuid.NewString()),
		StreamVersion: version,
		Position:      eventstore.Position{TxID: 77, Global: 1000 + version},
		Type:          typ,
		SchemaVersion: 2,
		Data:          json.RawMessage(`{"name": "Zoë ✓ 名前", "note": "a<b & c>d", "points": 12}`),
		Metadata: eventstore.Metadata{
			TraceID:       "4bf92f3577b34da6a3ce929d0e0e4736",
			CorrelationID: "corr-1",
			CausationID:   uuid.NewString(),
			ActorID:       "account-42",
			Depth:         2,
		},
		RecordedAt: time.Date(2026, 3, 1, 12, 30, 45, 123456789, time.UTC),
	}
}

// publish publishes events and fails the test on an error.
func publish(t *testing.T, b *Broker, events ...eventstore.Event) {
	t.Helper()
	for _, e := range events {
		if _, err := b.Publish(testCtx(t), e); err != nil {
			t.Fatalf("Publish %s: %v", e.Type, err)
		}
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder is a handler that remembers what it was given.
type recorder struct {
	mu         sync.Mutex
	events     []eventstore.Event
	deliveries []Delivery
}

func (r *recorder) record(e eventstore.Event, d Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	r.deliveries = append(r.deliveries, d)
}

func (r *recorder) handler(_ context.Context, e eventstore.Event, d Delivery) error {
	r.record(e, d)
	return nil
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) snapshot() ([]eventstore.Event, []Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]eventstore.Event(nil), r.events...), append([]Delivery(nil), r.deliveries...)
}

// assertSameEvent compares two events field by field.
func assertSameEvent(t *testing.T, got, want eventstore.Event) {
	t.Helper()
	if string(got.Data) != string(want.Data) {
		t.Errorf("data = %s, want %s", got.Data, want.Data)
	}
	if !got.RecordedAt.Equal(want.RecordedAt) {
		t.Errorf("recorded at = %v, want %v", got.RecordedAt, want.RecordedAt)
	}
	got.Data, want.Data = nil, nil
	got.RecordedAt, want.RecordedAt = time.Time{}, time.Time{}
	if got.ID != want.ID || got.StreamID != want.StreamID || got.StreamVersion != want.StreamVersion ||
		got.Position != want.Position || got.Type != want.Type || got.SchemaVersion != want.SchemaVersion ||
		got.Metadata != want.Metadata {
		t.Errorf("event = %+v, want %+v", got, want)
	}
}
