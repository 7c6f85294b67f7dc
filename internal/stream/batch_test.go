package stream

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// A batch consumer gets the events that piled up in one call, in order.
func TestConsumeBatchGathersInOrder(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		want := newEvents(t, "product", "ProductListed", 300)
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

// A batch consumer of several streams runs one handler call at a time for
// all of them, mixes their events in a batch, and keeps each stream's order.
func TestConsumeBatchOneCallAtATimeAcrossStreams(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		products := newEvents(t, "product", "ProductListed", 200)
		accounts := newEvents(t, "account", "AccountOpened", 200)
		for i := range products {
			publish(t, b, products[i], accounts[i])
		}
		var (
			mu      sync.Mutex
			running int
			overlap bool
			mixed   bool
			got     = map[string][]int64{}
		)
		c, err := b.ConsumeBatch(ctx, ConsumerConfig{Name: "mixed", Streams: []string{Catalog, Users}, Batch: 50},
			func(_ context.Context, events []eventstore.Event) error {
				mu.Lock()
				running++
				overlap = overlap || running > 1
				cats := map[string]bool{}
				for _, e := range events {
					got[e.Category()] = append(got[e.Category()], e.StreamVersion)
					cats[e.Category()] = true
				}
				mixed = mixed || len(cats) == 2
				mu.Unlock()
				time.Sleep(time.Millisecond) // long enough for another call to overlap, were one let in
				mu.Lock()
				running--
				mu.Unlock()
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Stop()
		eventually(t, "every event", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(got["product"]) == 200 && len(got["account"]) == 200
		})
		mu.Lock()
		defer mu.Unlock()
		if overlap {
			t.Error("two handler calls ran at once")
		}
		if !mixed {
			t.Error("no batch held events of both streams")
		}
		for cat, versions := range got {
			for i, v := range versions {
				if v != int64(i+1) {
					t.Fatalf("%s events out of order: %v", cat, versions)
				}
			}
		}
	})
}

// An event that keeps failing is retried and parked before any later event
// is handled, so a batch consumer never lets a later event overtake it.
func TestConsumeBatchKeepsOrderAcrossFailures(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		events := newEvents(t, "product", "ProductListed", 20)
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

// storedIDs returns the message ids a stream holds, in stream order.
func storedIDs(t *testing.T, b *Broker, stream string) []string {
	t.Helper()
	ctx := testCtx(t)
	s, err := b.JetStream().Stream(ctx, b.StreamName(stream))
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.Header.Get(jetstream.MsgIDHeader))
	}
	return ids
}

func idsOf(events ...eventstore.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.ID.String())
	}
	return out
}

// A batch goes out in order, each event to its stream, and a batch
// published again is dropped whole as duplicates.
func TestPublishBatchInOrder(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		var events, users, catalog []eventstore.Event
		for i := range 60 {
			e := newEvent(t, "account", "AccountOpened", int64(i+1))
			if i%3 == 0 {
				e = newEvent(t, "product", "ProductListed", int64(i+1))
				catalog = append(catalog, e)
			} else {
				users = append(users, e)
			}
			events = append(events, e)
		}
		res, err := b.PublishBatch(ctx, events)
		if err != nil || len(res) != len(events) {
			t.Fatalf("PublishBatch = %d results, %v", len(res), err)
		}
		for i, r := range res {
			if want, _ := StreamFor(events[i].Category()); r.Stream != want || r.Duplicate {
				t.Fatalf("result %d = %+v, want a new message on %s", i, r, want)
			}
		}
		again, err := b.PublishBatch(ctx, events)
		if err != nil || len(again) != len(events) {
			t.Fatalf("PublishBatch again = %d results, %v", len(again), err)
		}
		for i, r := range again {
			if !r.Duplicate || r.Sequence != res[i].Sequence {
				t.Fatalf("result %d again = %+v, want a duplicate of %d", i, r, res[i].Sequence)
			}
		}
		if got := storedIDs(t, b, Users); !slices.Equal(got, idsOf(users...)) {
			t.Errorf("users holds %v, want %v", got, idsOf(users...))
		}
		if got := storedIDs(t, b, Catalog); !slices.Equal(got, idsOf(catalog...)) {
			t.Errorf("catalog holds %v, want %v", got, idsOf(catalog...))
		}
	})
}

// An event the stream refuses stops the batch there: a later event of the
// same stream, although sent before the refusal came back, is not stored
// after it, so the stream never holds a gap that a re-publish would fill
// out of order.
func TestPublishBatchStopsAtAFailure(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		s, err := b.JetStream().Stream(ctx, b.StreamName(Catalog))
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cfg := info.Config
		cfg.MaxMsgSize = 4096
		if _, err := b.JetStream().UpdateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		first, big, after := newEvent(t, "product", "ProductListed", 1), newEvent(t, "product", "ProductListed", 2), newEvent(t, "product", "ProductListed", 3)
		big.Data = json.RawMessage(`{"name": "` + strings.Repeat("x", 8192) + `"}`)
		other := newEvent(t, "account", "AccountOpened", 1)
		res, err := b.PublishBatch(ctx, []eventstore.Event{first, big, other, after})
		if err == nil || len(res) != 1 {
			t.Fatalf("PublishBatch = %d results, %v; want 1 and the refusal of the big event", len(res), err)
		}
		if got := storedIDs(t, b, Catalog); !slices.Equal(got, idsOf(first)) {
			t.Errorf("catalog holds %v, want only %v", got, idsOf(first))
		}
		// Once the cause is gone, publishing from the failed event on fills
		// the stream in order; what went in already is dropped as a duplicate.
		cfg.MaxMsgSize = -1
		if _, err := b.JetStream().UpdateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		if res, err := b.PublishBatch(ctx, []eventstore.Event{big, other, after}); err != nil || len(res) != 3 {
			t.Fatalf("PublishBatch again = %d results, %v", len(res), err)
		}
		if got := storedIDs(t, b, Catalog); !slices.Equal(got, idsOf(first, big, after)) {
			t.Errorf("catalog holds %v, want %v", got, idsOf(first, big, after))
		}
		if got := storedIDs(t, b, Users); !slices.Equal(got, idsOf(other)) {
			t.Errorf("users holds %v, want %v", got, idsOf(other))
		}
	})
}

// A message that went into a stream between two events of a batch (here an
// event new to the stream ahead of duplicates, as after a re-publish) breaks
// the chain of expectations; the batch goes on as a new chain.
func TestPublishBatchRestartsABrokenChain(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		sent := newEvents(t, "account", "AccountOpened", 3)
		publish(t, b, sent...)
		late, next := newEvent(t, "account", "AccountOpened", 1), newEvent(t, "account", "AccountOpened", 2)
		batch := append([]eventstore.Event{late}, append(sent, next)...)
		res, err := b.PublishBatch(ctx, batch)
		if err != nil || len(res) != len(batch) {
			t.Fatalf("PublishBatch = %d results, %v", len(res), err)
		}
		for i, r := range res {
			if dup := i >= 1 && i <= 3; r.Duplicate != dup {
				t.Errorf("result %d = %+v, duplicate should be %v", i, r, dup)
			}
		}
		if got, want := storedIDs(t, b, Users), idsOf(append(sent, late, next)...); !slices.Equal(got, want) {
			t.Errorf("users holds %v, want %v", got, want)
		}
	})
}
