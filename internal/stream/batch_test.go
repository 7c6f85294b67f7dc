package stream

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// A batch consumer gets the events that piled up in one call, in order.
func TestConsumeBatchGathersInOrder(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		var want []eventstore.Event
		for i := range 300 {
			want = append(want, newEvent(t, "product", "ProductListed", int64(i+1)))
		}
		publish(t, b, want...)
		var (
			mu      sync.Mutex
			got     []eventstore.Event
			biggest int
		)
		c, err := b.ConsumeBatch(ctx, ConsumerConfig{Name: "batch", Streams: []string{Catalog}, Batch: 50},
			func(_ context.Context, events []eventstore.Event) error {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, events...)
				biggest = max(biggest, len(events))
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Stop()
		eventually(t, "every event", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == len(want) })
		mu.Lock()
		defer mu.Unlock()
		for i := range got {
			if got[i].ID != want[i].ID {
				t.Fatalf("event %d out of order: version %d", i, got[i].StreamVersion)
			}
		}
		if biggest < 2 || biggest > 50 {
			t.Fatalf("largest batch %d, want 2 to 50: events that piled up should come together", biggest)
		}
	})
}

// An event that keeps failing is retried and parked before any later event
// is handled, so a batch consumer never lets a later event overtake it.
func TestConsumeBatchKeepsOrderAcrossFailures(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		var events []eventstore.Event
		for i := range 20 {
			events = append(events, newEvent(t, "product", "ProductListed", int64(i+1)))
		}
		poison, flaky := events[5], events[9]
		publish(t, b, events...)
		var (
			mu       sync.Mutex
			applied  []int64
			flakyTry int
		)
		c, err := b.ConsumeBatch(ctx, ConsumerConfig{Name: "batchfail", Streams: []string{Catalog}, Batch: 20, Backoff: fastRetry, MaxDeliver: 3},
			func(_ context.Context, batch []eventstore.Event) error {
				mu.Lock()
				defer mu.Unlock()
				for _, e := range batch {
					if e.ID == poison.ID {
						return errors.New("poison")
					}
					if e.ID == flaky.ID && len(batch) == 1 && flakyTry < 1 {
						flakyTry++
						return errors.New("not yet")
					}
					if e.ID == flaky.ID && len(batch) > 1 {
						return errors.New("only alone")
					}
				}
				for _, e := range batch {
					applied = append(applied, e.StreamVersion)
				}
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Stop()
		eventually(t, "every event but the poison", func() bool { mu.Lock(); defer mu.Unlock(); return len(applied) == 19 })
		mu.Lock()
		defer mu.Unlock()
		prev := int64(0)
		for _, v := range applied {
			if v <= prev || v == poison.StreamVersion {
				t.Fatalf("applied %v: out of order or the poison went through", applied)
			}
			prev = v
		}
		eventually(t, "the poison parked", func() bool {
			dls, err := b.DeadLetters(ctx, "batchfail", 10)
			return err == nil && len(dls) == 1 && dls[0].Event.ID == poison.ID && dls[0].Attempts == 3
		})
	})
}
