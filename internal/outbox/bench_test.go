package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/sqlite"
	"github.com/bluepoint/bluepoint/internal/outbox"
	"github.com/bluepoint/bluepoint/internal/stream"
)

func benchStore(b *testing.B) eventstore.Store {
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: b.TempDir() + "/events.db"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchBroker(b *testing.B) *stream.Broker {
	br, err := stream.Open(context.Background(), stream.Config{StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { br.Close() })
	return br
}

// fill appends n events, 100 per transaction, and returns them.
func fill(b *testing.B, s eventstore.Store, n int) []eventstore.Event {
	var out []eventstore.Event
	for len(out) < n {
		var evs []eventstore.EventData
		for i := 0; i < min(100, n-len(out)); i++ {
			evs = append(evs, eventstore.EventData{Type: "PointsCredited", Data: json.RawMessage(`{"points":10,"reason":"benchmark"}`)})
		}
		res, err := s.Append(context.Background(), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
			{StreamID: "account-" + uuid.NewString(), Expected: eventstore.NoStream, Events: evs}}})
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, res.Events...)
	}
	return out
}

// BenchmarkRelayVsRawPublish compares the relay draining an outbox of
// b.N events with publishing the same events straight to JetStream (the
// same synchronous publish, the same embedded server settings), interleaved.
//
//	go test -run '^$' -bench RelayVsRaw -benchtime 20000x ./internal/outbox/
func BenchmarkRelayVsRawPublish(b *testing.B) {
	rates := map[string]map[int]float64{"raw": {}, "relay": {}} // the last run of each pair wins
	for pair := 1; pair <= 3; pair++ {
		b.Run(fmt.Sprintf("pair=%d/raw", pair), func(b *testing.B) {
			s, br := benchStore(b), benchBroker(b)
			evs := fill(b, s, b.N)
			b.ResetTimer()
			start := time.Now()
			for _, e := range evs {
				if _, err := br.Publish(context.Background(), e); err != nil {
					b.Fatal(err)
				}
			}
			rate := float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(rate, "events/s")
			rates["raw"][pair] = rate
		})
		b.Run(fmt.Sprintf("pair=%d/relay", pair), func(b *testing.B) {
			s, br := benchStore(b), benchBroker(b)
			fill(b, s, b.N)
			r := outbox.New(s, outbox.BrokerPublisher{Broker: br}, outbox.Config{BatchSize: 1000})
			b.ResetTimer()
			start := time.Now()
			for done := 0; done < b.N; {
				n, err := r.RelayOnce(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				done += n
			}
			rate := float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(rate, "events/s")
			rates["relay"][pair] = rate
		})
	}
	if len(rates["raw"]) == 3 && len(rates["relay"]) == 3 {
		var ratios []float64
		for pair, raw := range rates["raw"] {
			ratios = append(ratios, rates["relay"][pair]/raw)
		}
		sort.Float64s(ratios)
		fmt.Printf("\nrelay/raw publish throughput: median ratio %.2f (ratios %.2f %.2f %.2f)\n", ratios[1], ratios[0], ratios[1], ratios[2])
	}
}

// BenchmarkCommitToPublished appends one event a millisecond (1,000/s) for
// b.N events with the relay running, and reports the time from the append's
// return (commit) to the event's arrival at a subscriber of the stream.
//
//	go test -run '^$' -bench CommitToPublished -benchtime 3000x ./internal/outbox/
func BenchmarkCommitToPublished(b *testing.B) {
	s, br := benchStore(b), benchBroker(b)
	var (
		mu        sync.Mutex
		committed = map[uuid.UUID]time.Time{}
		arrived   = map[uuid.UUID]time.Time{}
		done      = make(chan struct{})
	)
	sub, err := br.Conn().Subscribe("bluepoint.users.>", func(m *nats.Msg) {
		e, err := stream.Decode(m.Data)
		if err != nil {
			return
		}
		mu.Lock()
		arrived[e.ID] = time.Now()
		if len(arrived) == b.N {
			close(done)
		}
		mu.Unlock()
	})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	r := outbox.New(s, outbox.BrokerPublisher{Broker: br}, outbox.Config{})
	if err := r.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer r.Stop(context.Background())
	for !r.Active() {
		time.Sleep(time.Millisecond)
	}
	b.ResetTimer()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for i := 0; i < b.N; i++ {
		<-tick.C
		res, err := s.Append(context.Background(), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{{
			StreamID: "account-" + uuid.NewString(), Expected: eventstore.NoStream,
			Events: []eventstore.EventData{{Type: "PointsCredited", Data: json.RawMessage(`{"points":1}`)}}}}})
		if err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		committed[res.Events[0].ID] = time.Now()
		mu.Unlock()
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		b.Fatal("not every event arrived")
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	var lat []float64
	for id, c := range committed {
		lat = append(lat, max(0, float64(arrived[id].Sub(c).Microseconds())/1000))
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	fmt.Printf("\ncommit to published at 1,000 events/s: p50 %.2f ms, p99 %.2f ms (%d events)\n", p50, p99, len(lat))
}
