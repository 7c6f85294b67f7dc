package storetest

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/traceid"
)

// traceBatch is how many steps a batch of the benchmark records: a relay
// or read-model round's worth under load.
const traceBatch = 50

// BenchmarkTraceSteps records trace steps in batches, as the relay and the
// read models do, into a store that already holds prior steps, with
// random trace ids and with ids that begin with the time (package
// traceid). Each op is one step.
//
// Before the timed batches each store is given ten prior steps per step
// timed, up to prior: an index that is already large is where random ids
// cost most.
func BenchmarkTraceSteps(b *testing.B, open func(b *testing.B) eventstore.Store, prior int) {
	for _, ids := range []struct {
		name string
		new  func() string
	}{
		{"random", func() string { u := uuid.New(); return hex.EncodeToString(u[:]) }},
		{"time-ordered", traceid.String},
	} {
		b.Run(ids.name, func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			held := min(prior, 10*b.N)
			for done := 0; done < held; done += 1000 {
				if err := s.RecordTraceSteps(ctx, traceSteps(min(1000, held-done), ids.new)); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for done := 0; done < b.N; done += traceBatch {
				if err := s.RecordTraceSteps(ctx, traceSteps(min(traceBatch, b.N-done), ids.new)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}

func traceSteps(n int, newID func() string) []eventstore.TraceStep {
	steps := make([]eventstore.TraceStep, n)
	now := time.Now().UTC()
	for i := range steps {
		steps[i] = eventstore.TraceStep{TraceID: newID(), Step: "projection users", Status: "ok", Detail: "applied AccountOpened", At: now}
	}
	return steps
}
