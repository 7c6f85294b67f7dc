package stream

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

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
			mu      sync.Mutex
			handled int
			durable bool // what AckAfter answers
			calls   atomic.Int32
		)
		afterHandled := map[int]bool{} // events handled when AckAfter was called
		c, err := b.ConsumeBatch(ctx, ConsumerConfig{Name: "held", Streams: []string{Catalog}, Batch: 20,
			AckAfter: func(context.Context) error {
				calls.Add(1)
				mu.Lock()
				defer mu.Unlock()
				afterHandled[handled] = true
				if !durable {
					return errors.New("not flushed yet")
				}
				return nil
			}},
			func(_ context.Context, events []eventstore.Event) error {
				mu.Lock()
				defer mu.Unlock()
				handled += len(events)
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Stop()
		eventually(t, "every event handled", func() bool { mu.Lock(); defer mu.Unlock(); return handled == len(want) })
		eventually(t, "an AckAfter call", func() bool { return calls.Load() > 0 })
		lag, err := c.Lag(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if lag[Catalog] != uint64(len(want)) {
			t.Fatalf("lag %d while AckAfter fails, want all %d events unacknowledged", lag[Catalog], len(want))
		}
		mu.Lock()
		durable = true
		if afterHandled[0] {
			t.Error("AckAfter was called before any event was handled")
		}
		mu.Unlock()
		eventually(t, "every event acknowledged", func() bool {
			lag, err := c.Lag(ctx)
			return err == nil && lag[Catalog] == 0
		})
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
