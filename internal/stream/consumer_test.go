package stream

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// fastRetry keeps retry tests quick.
var fastRetry = []time.Duration{10 * time.Millisecond}

func TestConsumerDeliversInOrderAndAcks(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		var want []eventstore.Event
		for i := range 10 {
			want = append(want, newEvent(t, "account", "AccountOpened", int64(i+1)), newEvent(t, "donation", "DonationMade", int64(i+1)))
		}
		publish(t, b, want...)
		var rec recorder
		c, err := b.Consume(ctx, ConsumerConfig{Name: "inorder", Streams: []string{Users, Transactions}}, rec.handler)
		if err != nil {
			t.Fatalf("Consume: %v", err)
		}
		eventually(t, "all events", func() bool { return rec.len() == len(want) })
		got, deliveries := rec.snapshot()
		last := map[string]int64{}
		lastSeq := map[string]uint64{}
		for i, e := range got {
			d := deliveries[i]
			if e.StreamVersion != last[d.Stream]+1 || d.Sequence != lastSeq[d.Stream]+1 || d.Attempt != 1 {
				t.Errorf("delivery %d: %s version %d, %+v: out of order or retried", i, e.Type, e.StreamVersion, d)
			}
			last[d.Stream], lastSeq[d.Stream] = e.StreamVersion, d.Sequence
		}
		eventually(t, "no lag", func() bool {
			lag, err := c.Lag(ctx)
			return err == nil && lag[Users] == 0 && lag[Transactions] == 0
		})
		if err := c.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	})
}

func TestConsumerRetriesWithAttempts(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		first, second := newEvent(t, "product", "ProductListed", 1), newEvent(t, "product", "ProductListed", 2)
		publish(t, b, first, second)
		var rec recorder
		failures := 0
		h := func(ctx context.Context, e eventstore.Event, d Delivery) error {
			rec.record(e, d)
			if e.ID == first.ID && failures < 2 {
				failures++
				return errors.New("not yet")
			}
			return nil
		}
		if _, err := b.Consume(ctx, ConsumerConfig{Name: "retry", Streams: []string{Catalog}, Backoff: fastRetry}, h); err != nil {
			t.Fatalf("Consume: %v", err)
		}
		eventually(t, "four deliveries", func() bool { return rec.len() == 4 })
		got, deliveries := rec.snapshot()
		for i, want := range []struct {
			id      eventstore.Event
			attempt int
		}{{first, 1}, {first, 2}, {first, 3}, {second, 1}} {
			if got[i].ID != want.id.ID || deliveries[i].Attempt != want.attempt {
				t.Errorf("delivery %d: version %d attempt %d; want version %d attempt %d",
					i, got[i].StreamVersion, deliveries[i].Attempt, want.id.StreamVersion, want.attempt)
			}
		}
	})
}

func TestConsumerResumesAfterRestart(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		cfg := ConsumerConfig{Name: "resume", Streams: []string{Activity}}
		before := []eventstore.Event{newEvent(t, "activity", "Seen", 1), newEvent(t, "activity", "Seen", 2), newEvent(t, "activity", "Seen", 3)}
		publish(t, b, before...)
		var rec1 recorder
		c, err := b.Consume(ctx, cfg, rec1.handler)
		if err != nil {
			t.Fatalf("Consume: %v", err)
		}
		eventually(t, "first run", func() bool { return rec1.len() == len(before) })
		if err := c.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}

		after := []eventstore.Event{newEvent(t, "activity", "Seen", 4), newEvent(t, "activity", "Seen", 5)}
		publish(t, b, after...)
		var rec2 recorder
		if _, err = b.Consume(ctx, cfg, rec2.handler); err != nil {
			t.Fatalf("Consume again: %v", err)
		}
		eventually(t, "second run", func() bool { return rec2.len() >= len(after) })
		// Lag zero means nothing else is on its way.
		eventually(t, "no lag", func() bool {
			lag, err := c.Lag(ctx)
			return err == nil && lag[Activity] == 0
		})
		got, _ := rec2.snapshot()
		if len(got) != len(after) || got[0].ID != after[0].ID || got[1].ID != after[1].ID {
			t.Errorf("second run got %d events, want exactly the %d published after the stop", len(got), len(after))
		}
	})
}

func TestConsumerFilterTypes(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		publish(t, b,
			newEvent(t, "account", "AccountOpened", 1), newEvent(t, "account", "AccountVerified", 2),
			newEvent(t, "account", "AccountClosed", 3), newEvent(t, "account", "AccountOpened", 1))
		for name, types := range map[string][]string{"one": {"AccountOpened"}, "two": {"AccountOpened", "AccountClosed"}} {
			var rec recorder
			c, err := b.Consume(ctx, ConsumerConfig{Name: "filter-" + name, Streams: []string{Users}, FilterTypes: types}, rec.handler)
			if err != nil {
				t.Fatalf("Consume: %v", err)
			}
			eventually(t, "no lag", func() bool {
				lag, err := c.Lag(ctx)
				return err == nil && lag[Users] == 0 && rec.len() > 0
			})
			got, _ := rec.snapshot()
			if want := map[string]int{"one": 2, "two": 3}[name]; len(got) != want {
				t.Errorf("%s: got %d events, want %d", name, len(got), want)
			}
			for _, e := range got {
				if e.Type == "AccountVerified" || (name == "one" && e.Type != "AccountOpened") {
					t.Errorf("%s: got %s", name, e.Type)
				}
			}
		}
	})
}

func TestConsumerConfigValidate(t *testing.T) {
	for name, cfg := range map[string]ConsumerConfig{
		"no name":       {Streams: []string{Users}},
		"dotted name":   {Name: "a.b", Streams: []string{Users}},
		"no streams":    {Name: "a"},
		"dead letters":  {Name: "a", Streams: []string{DeadLetterStream}},
		"twice":         {Name: "a", Streams: []string{Users, Users}},
		"deliver from":  {Name: "a", Streams: []string{Users}, DeliverFrom: "middle"},
		"negative conc": {Name: "a", Streams: []string{Users}, Concurrency: -1},
	} {
		if err := cfg.WithDefaults().Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, cfg)
		}
	}
}

func TestConsumerStopsWithContext(t *testing.T) {
	b := openBroker(t, Config{StoreDir: t.TempDir()})
	ctx, cancel := context.WithCancel(testCtx(t))
	var rec recorder
	c, err := b.Consume(ctx, ConsumerConfig{Name: "cancelled", Streams: []string{Users}}, rec.handler)
	if err != nil {
		t.Fatalf("Consume: %v", err)
	}
	cancel()
	select {
	case <-c.done:
	case <-testCtx(t).Done():
		t.Fatal("consumer did not stop when its context ended")
	}
	publish(t, b, newEvent(t, "account", "AccountOpened", 1))
	eventually(t, "the event waiting", func() bool {
		lag, err := c.Lag(testCtx(t))
		return err == nil && lag[Users] == 1
	})
	if n := rec.len(); n != 0 {
		t.Errorf("a stopped consumer handled %d events", n)
	}
}
