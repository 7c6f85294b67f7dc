package eventstore_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

type recorder struct {
	mu    sync.Mutex
	steps []eventstore.TraceStep
}

func (r *recorder) RecordTraceSteps(_ context.Context, steps []eventstore.TraceStep) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, steps...)
	return nil
}

// TestTraceLogWritesEverythingByStop: steps added before the stop are all
// written, in order and stamped, by the time Run returns.
func TestTraceLogWritesEverythingByStop(t *testing.T) {
	rec := &recorder{}
	l := eventstore.NewTraceLog(rec, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	for i := range 2500 {
		l.Add([]eventstore.TraceStep{{TraceID: "t", Step: "s", Status: "applied", Detail: string(rune('a' + i%26))}})
	}
	cancel()
	<-done
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.steps) != 2500 {
		t.Fatalf("%d steps written, want 2500", len(rec.steps))
	}
	for i, st := range rec.steps {
		if st.At.IsZero() || st.Detail != string(rune('a'+i%26)) {
			t.Fatalf("step %d: %+v", i, st)
		}
	}
}
