package stream

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// With AckAfter, handled events stay unacknowledged until it succeeds, and
// one call covers the batches handled before it.
func TestAckAfterHoldsAcknowledgements(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		// Fewer than the consumer may hold unacknowledged (four batches):
		// beyond that, delivery waits for AckAfter, as it should.
		want := newEvents(t, "product", "ProductListed", 70)
		publish(t, b, want...)
		var (
			durable atomic.Bool // what AckAfter answers
			calls   atomic.Int32
			batches atomic.Int32
			handled atomic.Int32
		)
		c, err := b.ConsumeBatch(ctx, ConsumerConfig{Name: "held", Streams: []string{Catalog}, Batch: 20,
			AckAfter: func(context.Context) error {
				calls.Add(1)
				time.Sleep(20 * time.Millisecond) // a flush takes a while
				if !durable.Load() {
					return errors.New("not flushed yet")
				}
				return nil
			}},
			func(_ context.Context, events []eventstore.Event) error {
				batches.Add(1)
				handled.Add(int32(len(events)))
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Stop()
		eventually(t, "every event handled", func() bool { return handled.Load() == int32(len(want)) })
		eventually(t, "an AckAfter call", func() bool { return calls.Load() > 0 })
		lag, err := c.Lag(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if lag[Catalog] != uint64(len(want)) {
			t.Fatalf("lag %d while AckAfter fails, want all %d events unacknowledged", lag[Catalog], len(want))
		}
		durable.Store(true)
		eventually(t, "every event acknowledged", func() bool {
			lag, err := c.Lag(ctx)
			return err == nil && lag[Catalog] == 0
		})
		// The failing calls retried after backoffs of 100 ms and more, so
		// the batches handled meanwhile waited for the next call.
		if n, got := batches.Load(), calls.Load(); got >= n {
			t.Fatalf("%d AckAfter calls for %d batches: one call should cover several", got, n)
		}
	})
}

// AckAfter is for batch consumers only: with one event at a time, held
// acknowledgements would let a later event overtake one being retried.
func TestAckAfterNeedsABatchConsumer(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		_, err := b.Consume(testCtx(t), ConsumerConfig{Name: "single", Streams: []string{Catalog},
			AckAfter: func(context.Context) error { return nil }},
			func(context.Context, eventstore.Event, Delivery) error { return nil })
		if err == nil {
			t.Fatal("Consume took AckAfter")
		}
	})
}

// A consumer stopped while AckAfter fails hands its events back, and the
// next run handles them again.
func TestAckAfterFailingAtStopRedelivers(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		want := newEvents(t, "product", "ProductListed", 30)
		publish(t, b, want...)
		var handled atomic.Int32
		h := func(_ context.Context, events []eventstore.Event) error {
			handled.Add(int32(len(events)))
			return nil
		}
		never := func(context.Context) error { return errors.New("the disk is gone") }
		c, err := b.ConsumeBatch(ctx, ConsumerConfig{Name: "lost", Streams: []string{Catalog}, AckAfter: never}, h)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "every event handled", func() bool { return handled.Load() == int32(len(want)) })
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
		handled.Store(0)
		c, err = b.ConsumeBatch(ctx, ConsumerConfig{Name: "lost", Streams: []string{Catalog}}, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Stop()
		eventually(t, "every event handled again", func() bool { return handled.Load() == int32(len(want)) })
	})
}
