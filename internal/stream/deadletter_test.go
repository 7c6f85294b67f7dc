package stream

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/google/uuid"
)

func TestDeadLetterAndRedrive(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		poison, next := newEvent(t, "product", "ProductListed", 1), newEvent(t, "product", "ProductPriced", 2)
		publish(t, b, poison, next)

		var healed atomic.Bool
		var sink, other recorder
		failing := func(ctx context.Context, e eventstore.Event, d Delivery) error {
			sink.record(e, d)
			if e.ID == poison.ID && !healed.Load() {
				return errors.New("poison\nwith a second line")
			}
			return nil
		}
		cfg := ConsumerConfig{Name: "sink", Streams: []string{Catalog}, MaxDeliver: 3, Backoff: fastRetry}
		if _, err := b.Consume(ctx, cfg, failing); err != nil {
			t.Fatalf("Consume: %v", err)
		}
		oc, err := b.Consume(ctx, ConsumerConfig{Name: "other", Streams: []string{Catalog}}, other.handler)
		if err != nil {
			t.Fatalf("Consume other: %v", err)
		}

		// Three failed attempts park the event; the next one flows again.
		eventually(t, "the event after the poison", func() bool { return sink.len() == 4 })
		got, deliveries := sink.snapshot()
		for i, want := range []int{1, 2, 3} {
			if got[i].ID != poison.ID || deliveries[i].Attempt != want {
				t.Errorf("delivery %d = %s attempt %d, want the poison attempt %d", i, got[i].Type, deliveries[i].Attempt, want)
			}
		}
		if got[3].ID != next.ID {
			t.Errorf("delivery 3 = %s, want the next event", got[3].Type)
		}
		dls, err := b.DeadLetters(ctx, "sink", 0)
		if err != nil || len(dls) != 1 {
			t.Fatalf("DeadLetters = %+v, %v; want one", dls, err)
		}
		dl := dls[0]
		if dl.Consumer != "sink" || dl.Error != "poison with a second line" || dl.Stream != Catalog ||
			dl.Subject != b.cfg.Prefix+"bluepoint.catalog.ProductListed" || dl.Attempts != 3 || dl.At.IsZero() {
			t.Errorf("dead letter = %+v", dl)
		}
		assertSameEvent(t, dl.Event, poison)
		if all, err := b.DeadLetters(ctx, "", 0); err != nil || len(all) != 1 {
			t.Errorf("DeadLetters(all) = %d, %v; want 1", len(all), err)
		}
		if none, err := b.DeadLetters(ctx, "other", 0); err != nil || len(none) != 0 {
			t.Errorf("DeadLetters(other) = %d, %v; want 0", len(none), err)
		}

		// Redrive: the sink gets the same event again, the other consumer does not.
		healed.Store(true)
		if err := b.Redrive(ctx, dl.Sequence); err != nil {
			t.Fatalf("Redrive: %v", err)
		}
		eventually(t, "the redriven event", func() bool { return sink.len() == 5 })
		got, deliveries = sink.snapshot()
		if got[4].ID != poison.ID || deliveries[4].Attempt != 1 {
			t.Errorf("redriven delivery = %s attempt %d", got[4].Type, deliveries[4].Attempt)
		}
		if dls, err := b.DeadLetters(ctx, "", 0); err != nil || len(dls) != 0 {
			t.Errorf("dead letters after redrive = %d, %v", len(dls), err)
		}
		if err := b.Redrive(ctx, dl.Sequence); !errors.Is(err, ErrDeadLetterNotFound) {
			t.Errorf("second Redrive = %v, want ErrDeadLetterNotFound", err)
		}
		eventually(t, "the other consumer done", func() bool {
			lag, err := oc.Lag(ctx)
			return err == nil && lag[Catalog] == 0
		})
		if n := other.len(); n != 2 {
			t.Errorf("other consumer handled %d events, want 2 (no redriven copy)", n)
		}
		// A redriven copy is not the last event published.
		if id, ok, err := b.LastEventID(ctx, Catalog); err != nil || !ok || id != next.ID {
			t.Errorf("LastEventID = %v, %v, %v; want %v", id, ok, err, next.ID)
		}
	})
}

func TestUndecodableMessageIsParkedAtOnce(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		if _, err := b.JetStream().Publish(ctx, b.cfg.Prefix+"bluepoint.activity.Garbage", []byte("not a cloud event")); err != nil {
			t.Fatal(err)
		}
		var rec recorder
		if _, err := b.Consume(ctx, ConsumerConfig{Name: "strict", Streams: []string{Activity}}, rec.handler); err != nil {
			t.Fatalf("Consume: %v", err)
		}
		var dls []DeadLetter
		eventually(t, "the dead letter", func() bool {
			var err error
			dls, err = b.DeadLetters(ctx, "strict", 1)
			return err == nil && len(dls) == 1
		})
		if dls[0].Attempts != 1 || !strings.Contains(dls[0].Error, "not a CloudEvent") {
			t.Errorf("dead letter = %+v", dls[0])
		}
		if rec.len() != 0 {
			t.Errorf("the handler saw %d events", rec.len())
		}
	})
}

// TestDeadLetterPages walks the parked events of two consumers a page at a
// time, at every page size: each is listed once, oldest first, and each
// consumer's in the order the events were published; a walk goes on past a
// redriven event and reaches the events parked after it began.
func TestDeadLetterPages(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		events := newEvents(t, "product", "ProductListed", 4)
		publish(t, b, events...)
		refuse := func(context.Context, eventstore.Event, Delivery) error { return errors.New("refused") }
		for _, name := range []string{"sink-a", "sink-b"} {
			if _, err := b.Consume(ctx, ConsumerConfig{Name: name, Streams: []string{Catalog}, MaxDeliver: 1, Backoff: fastRetry}, refuse); err != nil {
				t.Fatalf("Consume %s: %v", name, err)
			}
		}
		var all []DeadLetter
		eventually(t, "every event parked by both", func() bool {
			var err error
			all, err = b.DeadLetters(ctx, "", 0)
			return err == nil && len(all) == 2*len(events)
		})
		walk := func(consumer string, limit int, cursor string) (got []DeadLetter) {
			t.Helper()
			for pages := 1; ; pages++ {
				page, next, err := b.DeadLetterPage(ctx, &DeadLetterPageParams{Consumer: consumer, Limit: limit, Cursor: cursor})
				if err != nil || len(page) > limit || next != "" && len(page) != limit || next == "" && len(page) == 0 && len(got) > 0 || pages > len(all) {
					t.Fatalf("%q, %d at a time, page %d: %d, next %q, %v", consumer, limit, pages, len(page), next, err)
				}
				got = append(got, page...)
				if next == "" {
					return got
				}
				cursor = next
			}
		}
		for _, consumer := range []string{"", "sink-a", "sink-b"} {
			for limit := 1; limit <= len(all)+1; limit++ {
				got := walk(consumer, limit, "")
				n := len(all)
				if consumer != "" {
					n = len(events)
				}
				perConsumer := map[string][]uuid.UUID{}
				for i, d := range got {
					if i > 0 && d.Sequence <= got[i-1].Sequence {
						t.Fatalf("%q, %d at a time: sequence %d after %d", consumer, limit, d.Sequence, got[i-1].Sequence)
					}
					if consumer != "" && d.Consumer != consumer {
						t.Fatalf("%q, %d at a time: a dead letter of %q", consumer, limit, d.Consumer)
					}
					perConsumer[d.Consumer] = append(perConsumer[d.Consumer], d.Event.ID)
				}
				var want []uuid.UUID
				for _, e := range events {
					want = append(want, e.ID)
				}
				for c, ids := range perConsumer {
					if !slices.Equal(ids, want) {
						t.Fatalf("%q, %d at a time: %s parked %v, want %v", consumer, limit, c, ids, want)
					}
				}
				if len(got) != n {
					t.Fatalf("%q, %d at a time: %d dead letters, want %d", consumer, limit, len(got), n)
				}
			}
		}

		// Redrive the event a cursor points at: the walk goes on after it,
		// and the copy that the consumer parks again comes at its end.
		first, cursor, err := b.DeadLetterPage(ctx, &DeadLetterPageParams{Consumer: "sink-a", Limit: 2})
		if err != nil || len(first) != 2 || cursor == "" {
			t.Fatalf("first page: %d, %q, %v", len(first), cursor, err)
		}
		if err := b.Redrive(ctx, first[1].Sequence); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the redriven event parked again", func() bool {
			dls, err := b.DeadLetters(ctx, "sink-a", 0)
			return err == nil && len(dls) == len(events) && dls[len(dls)-1].Event.ID == first[1].Event.ID
		})
		rest := walk("sink-a", 2, cursor)
		var ids []uuid.UUID
		for _, d := range rest {
			ids = append(ids, d.Event.ID)
		}
		if want := []uuid.UUID{events[2].ID, events[3].ID, events[1].ID}; !slices.Equal(ids, want) {
			t.Fatalf("the rest of the walk: %v, want %v", ids, want)
		}

		enc := base64.RawURLEncoding.EncodeToString
		for _, c := range []string{"not a cursor", enc([]byte("x")), enc([]byte("0")), enc([]byte("-1")), enc([]byte("18446744073709551615"))} {
			_, _, err := b.DeadLetterPage(ctx, &DeadLetterPageParams{Limit: 1, Cursor: c})
			if !errors.Is(err, &domain.Error{Code: domain.CodeInvalid, Field: "cursor"}) {
				t.Fatalf("cursor %q: %v", c, err)
			}
		}
	})
}
