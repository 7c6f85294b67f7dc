package stream

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore"
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
