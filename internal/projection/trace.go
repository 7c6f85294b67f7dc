package projection

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Bounds of the background trace log.
const (
	// traceChunk is the most steps one write carries.
	traceChunk = 1000
	// traceBacklog is the most steps kept while the store refuses them;
	// newer ones are dropped beyond it (a trace is a diagnostic: it must not
	// grow without bound while the database is away).
	traceBacklog = 100_000
	// traceWriteTimeout bounds one write, so a store that hangs cannot
	// hold up a stop for long.
	traceWriteTimeout = 5 * time.Second
)

// traceLog records the trace steps of live batches in the background. A
// step is written in a transaction of the event store, which may be another
// database than the read models: writing it in the batch's own transaction
// is not possible in general, and writing it after the batch made the
// consumer wait for a second commit before it could take the next batch.
// Steps are stamped when they happen, and those that come while one write
// is in flight go together in the next.
type traceLog struct {
	store  eventstore.Store
	logger *slog.Logger
	wake   chan struct{}

	mu      sync.Mutex
	pending []eventstore.TraceStep
	dropped int
}

func newTraceLog(store eventstore.Store, logger *slog.Logger) *traceLog {
	return &traceLog{store: store, logger: logger, wake: make(chan struct{}, 1)}
}

// add queues steps for the next write.
func (l *traceLog) add(steps []eventstore.TraceStep) {
	if len(steps) == 0 {
		return
	}
	now := time.Now().UTC()
	l.mu.Lock()
	for _, st := range steps {
		if len(l.pending) >= traceBacklog {
			l.dropped++
			continue
		}
		if st.At.IsZero() {
			st.At = now
		}
		l.pending = append(l.pending, st)
	}
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// run writes queued steps until ctx ends, then writes what is left. A
// write under way when ctx ends is let finish (within traceWriteTimeout):
// its steps are taken off the queue already.
func (l *traceLog) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			l.flush(context.WithoutCancel(ctx))
			return
		case <-l.wake:
		}
		l.flush(context.WithoutCancel(ctx))
	}
}

// flush writes every queued step. Steps the store refuses are logged and
// dropped, as a synchronous write would have done.
func (l *traceLog) flush(ctx context.Context) {
	l.mu.Lock()
	steps, dropped := l.pending, l.dropped
	l.pending, l.dropped = nil, 0
	l.mu.Unlock()
	if dropped > 0 {
		l.logger.Warn("projection: trace steps dropped: too many waiting", "steps", dropped)
	}
	for chunk := range slices.Chunk(steps, traceChunk) {
		wctx, cancel := context.WithTimeout(ctx, traceWriteTimeout)
		err := l.store.RecordTraceSteps(wctx, chunk)
		cancel()
		if err != nil {
			l.logger.Warn("projection: record trace steps", "steps", len(chunk), "err", err)
		}
	}
}
