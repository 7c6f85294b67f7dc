package eventstore

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Bounds of a TraceLog.
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
	// traceLinger is how long a write waits for more steps after the first
	// that wakes it: the projections finish a batch every few milliseconds
	// under load, and a write (a transaction) per batch cost more than its
	// rows. A step is seen that much later; its time is when it happened.
	traceLinger = 20 * time.Millisecond
)

// TraceRecorder is the part of a Store a TraceLog writes to.
type TraceRecorder interface {
	RecordTraceSteps(ctx context.Context, steps []TraceStep) error
}

// TraceLog records trace steps in the background, for the parts that run
// behind a command (the relay, the projections): waiting for a trace step's
// commit would hold up their next round. Steps are stamped when they
// happen, and those that come while one write is in flight go together in
// the next. Steps still queued when Run's context ends are written before
// it returns; a crash loses at most the steps not yet written, which are
// diagnostics, never data.
type TraceLog struct {
	store  TraceRecorder
	name   string
	logger *slog.Logger
	wake   chan struct{}

	linger  time.Duration
	mu      sync.Mutex
	pending []TraceStep
	dropped int
}

// NewTraceLog makes a TraceLog writing to store; name prefixes its warnings.
func NewTraceLog(store TraceRecorder, logger *slog.Logger, name string) *TraceLog {
	return &TraceLog{store: store, name: name, logger: logger, wake: make(chan struct{}, 1), linger: traceLinger}
}

// Add queues steps for the next write.
func (l *TraceLog) Add(steps []TraceStep) {
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

// Run writes queued steps until ctx ends, then writes what is left. Each
// write takes the steps queued by the end of the linger that followed the
// first of them. A
// write under way when ctx ends is let finish (within traceWriteTimeout):
// its steps are taken off the queue already.
func (l *TraceLog) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			l.flush(context.WithoutCancel(ctx))
			return
		case <-l.wake:
		}
		linger := time.NewTimer(l.linger)
		select {
		case <-ctx.Done():
		case <-linger.C:
		}
		linger.Stop()
		// Steps added during the linger woke it again: this write takes
		// them, so the wake would only start an empty round.
		select {
		case <-l.wake:
		default:
		}
		l.flush(context.WithoutCancel(ctx))
	}
}

// flush writes every queued step. Steps the store refuses are logged and
// dropped, as a synchronous write would have done.
func (l *TraceLog) flush(ctx context.Context) {
	l.mu.Lock()
	steps, dropped := l.pending, l.dropped
	l.pending, l.dropped = nil, 0
	l.mu.Unlock()
	if dropped > 0 {
		l.logger.Warn(l.name+": trace steps dropped: too many waiting", "steps", dropped)
	}
	for chunk := range slices.Chunk(steps, traceChunk) {
		wctx, cancel := context.WithTimeout(ctx, traceWriteTimeout)
		err := l.store.RecordTraceSteps(wctx, chunk)
		cancel()
		if err != nil {
			l.logger.Warn(l.name+": record trace steps", "steps", len(chunk), "err", err)
		}
	}
}
