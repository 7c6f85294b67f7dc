package eventstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

type recorder struct {
	mu     sync.Mutex
	steps  []eventstore.TraceStep
	writes int
}

func (r *recorder) RecordTraceSteps(_ context.Context, steps []eventstore.TraceStep) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, steps...)
	r.writes++
	return nil
}

// runTraceLog runs a TraceLog writing to a recorder, with linger when not
// zero. stop ends Run and waits for it to return (failing the test after
// 10 s).
func runTraceLog(t *testing.T, linger time.Duration) (rec *recorder, l *eventstore.TraceLog, stop func()) {
	rec = &recorder{}
	l = eventstore.NewTraceLog(rec, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if linger != 0 {
		l.SetLinger(linger)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	return rec, l, func() {
		t.Helper()
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return within 10 s of the stop")
		}
	}
}

// TestTraceLogWritesEverythingByStop: steps added before the stop are all
// written, in order and stamped, by the time Run returns.
func TestTraceLogWritesEverythingByStop(t *testing.T) {
	rec, l, stop := runTraceLog(t, 0)
	for i := range 2500 {
		l.Add([]eventstore.TraceStep{{TraceID: "t", Step: "s", Status: "applied", Detail: string(rune('a' + i%26))}})
	}
	stop()
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

// Steps added within the linger of the first go in one write.
func TestTraceLogGathersStepsWithinTheLinger(t *testing.T) {
	rec, l, stop := runTraceLog(t, time.Second)
	defer stop()
	for i := range 3 {
		l.Add([]eventstore.TraceStep{{TraceID: "t", Step: "s", Status: "applied", Detail: fmt.Sprint(i)}})
		time.Sleep(50 * time.Millisecond)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec.mu.Lock()
		writes, n := rec.writes, len(rec.steps)
		rec.mu.Unlock()
		if n == 3 {
			if writes != 1 {
				t.Fatalf("3 steps in %d writes, want 1", writes)
			}
			return
		}
		if writes > 0 || time.Now().After(deadline) {
			t.Fatalf("%d of 3 steps written in %d writes, want all 3 in one", n, writes)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A stop during the linger writes the queued steps at once.
func TestTraceLogStopCutsTheLingerShort(t *testing.T) {
	rec, l, stop := runTraceLog(t, time.Hour)
	l.Add([]eventstore.TraceStep{{TraceID: "t", Step: "s", Status: "applied"}})
	time.Sleep(20 * time.Millisecond) // Run is lingering now
	stop()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.steps) != 1 {
		t.Fatalf("%d steps written, want 1", len(rec.steps))
	}
}
