package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// RawAppend writes one transaction of the benchmark workload with plain SQL
// and no store code: the events, one outbox row per event and one
// idempotency record. It is the baseline the store is measured against.
type RawAppend func(ctx context.Context, w RawWrite) error

// RawWrite is one transaction of the workload.
type RawWrite struct {
	StreamID string
	// FirstVersion is the stream version of the first event.
	FirstVersion int64
	Events       []eventstore.EventData
	Key          string
}

// BenchTarget opens what a benchmark round measures: a fresh store, and a
// raw appender over a fresh copy of the same schema.
type BenchTarget struct {
	Store func(b *testing.B) eventstore.Store
	Raw   func(b *testing.B) RawAppend
}

// streamsPerWriter spreads each writer over many streams of one category,
// the common case (every account stream is account-*).
const streamsPerWriter = 64

// BenchmarkAppend measures appends of 1 and 10 events per transaction with 1
// and 16 writers, running raw and store rounds interleaved (raw, store, raw,
// store, ...) so that both see the same disk, and prints the median
// store/raw ratio of each shape. Run it with a fixed -benchtime (for example
// 3000x) so every round does the same work.
func BenchmarkAppend(b *testing.B, t BenchTarget, pairs int) {
	type shape struct{ events, writers int }
	shapes := []shape{{1, 1}, {1, 16}, {10, 1}, {10, 16}}
	rates := map[string]float64{}
	for _, sh := range shapes {
		for pair := 1; pair <= pairs; pair++ {
			for _, kind := range []string{"raw", "store"} {
				name := fmt.Sprintf("events=%d/writers=%d/pair=%d/%s", sh.events, sh.writers, pair, kind)
				b.Run(name, func(b *testing.B) {
					var rate float64
					if kind == "raw" {
						rate = runRaw(b, t.Raw(b), sh.events, sh.writers)
					} else {
						rate = runStore(b, t.Store(b), sh.events, sh.writers)
					}
					b.ReportMetric(rate, "events/s")
					rates[name] = rate // the last (largest) run of b.N wins
				})
			}
		}
	}
	var report strings.Builder
	fmt.Fprintf(&report, "\n%-22s %14s %14s %8s\n", "shape", "raw events/s", "store events/s", "ratio")
	for _, sh := range shapes {
		var ratios, raws, stores []float64
		for pair := 1; pair <= pairs; pair++ {
			prefix := fmt.Sprintf("events=%d/writers=%d/pair=%d/", sh.events, sh.writers, pair)
			raw, store := rates[prefix+"raw"], rates[prefix+"store"]
			if raw == 0 || store == 0 {
				continue
			}
			raws, stores, ratios = append(raws, raw), append(stores, store), append(ratios, store/raw)
		}
		if len(ratios) == 0 {
			continue
		}
		fmt.Fprintf(&report, "%-22s %14.0f %14.0f %8.2f  (median of %d pairs; ratios %s)\n",
			fmt.Sprintf("events=%d writers=%d", sh.events, sh.writers), median(raws), median(stores), median(ratios), len(ratios), fmtList(ratios))
	}
	fmt.Print(report.String())
}

func payload(i int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"account_id":"%d","points":%d,"note":"benchmark event with a realistic small payload"}`, i, i%100))
}

// runWriters splits b.N transactions over the writers; each writer cycles
// through its own streams, so appends never conflict, as in a real workload
// of many accounts.
func runWriters(b *testing.B, writers, perTx int, do func(ctx context.Context, i int, stream string, version int64) error) time.Duration {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < writers; w++ {
		n := b.N / writers
		if w < b.N%writers {
			n++
		}
		wg.Add(1)
		go func(w, n int) {
			defer wg.Done()
			streams := make([]string, streamsPerWriter)
			versions := make([]int64, streamsPerWriter)
			for i := range streams {
				streams[i] = eventstore.StreamID("account", uuid.NewString())
			}
			for i := 0; i < n; i++ {
				k := i % streamsPerWriter
				if err := do(ctx, w*n+i, streams[k], versions[k]); err != nil {
					errs <- err
					return
				}
				versions[k] += int64(perTx)
			}
		}(w, n)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return elapsed
}

func events(n, seed int) []eventstore.EventData {
	evs := make([]eventstore.EventData, n)
	for j := range evs {
		evs[j] = eventstore.EventData{Type: "PointsCredited", Data: payload(seed + j),
			Metadata: eventstore.Metadata{TraceID: "bench", ActorID: "bench"}}
	}
	return evs
}

func runStore(b *testing.B, s eventstore.Store, perTx, writers int) float64 {
	elapsed := runWriters(b, writers, perTx, func(ctx context.Context, i int, stream string, v int64) error {
		_, err := s.Append(ctx, &eventstore.AppendParams{
			Streams:     []eventstore.StreamAppend{{StreamID: stream, Expected: eventstore.ExpectedVersion(v), Events: events(perTx, i)}},
			Idempotency: &eventstore.IdempotencyRecord{Key: uuid.NewString(), Fingerprint: "f", Status: 201, Response: json.RawMessage(`{"ok":true}`)},
		})
		return err
	})
	return float64(b.N*perTx) / elapsed.Seconds()
}

func runRaw(b *testing.B, raw RawAppend, perTx, writers int) float64 {
	elapsed := runWriters(b, writers, perTx, func(ctx context.Context, i int, stream string, v int64) error {
		evs := events(perTx, i)
		for j := range evs {
			evs[j].ID = uuid.Must(uuid.NewV7())
			evs[j].SchemaVersion = 1
		}
		return raw(ctx, RawWrite{StreamID: stream, FirstVersion: v + 1, Events: evs, Key: uuid.NewString()})
	})
	return float64(b.N*perTx) / elapsed.Seconds()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtList(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(parts, " ")
}
