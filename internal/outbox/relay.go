// Package outbox is the relay from the event store's outbox to the stream
// engine. An append writes one outbox row per event in its transaction; the
// relay publishes those rows in order, with the event id as the message id
// (so a re-publish is dropped as a duplicate), then marks them sent.
//
// One relay is active per database at a time: it holds a lease, and another
// process takes over when the holder dies. JetStream acknowledges a publish
// before it syncs to disk, so on taking the lease the relay compares each
// stream's last message with the recently sent rows and publishes again
// whatever an unclean stop lost.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Publisher is the stream engine as the relay sees it.
type Publisher interface {
	// Publish sends one event; a duplicate (same event id) is not an error.
	Publish(ctx context.Context, e eventstore.Event) (stream string, err error)
	// LastEventID returns the id of a stream's last message.
	LastEventID(ctx context.Context, stream string) (uuid.UUID, bool, error)
	// StreamOf names the stream an event goes to (false: none).
	StreamOf(e eventstore.Event) (string, bool)
	// Streams lists every stream the relay publishes to.
	Streams() []string
}

// BatchPublisher is a Publisher that sends many events without waiting for
// each acknowledgement. The relay uses it when its publisher has it.
type BatchPublisher interface {
	// PublishBatch publishes events in order and returns the streams of
	// the leading ones published, and the error that stopped it. No event
	// of a stream may be stored after one of that stream that failed.
	PublishBatch(ctx context.Context, events []eventstore.Event) (streams []string, err error)
}

// Config tunes a Relay. The zero value works: WithDefaults fills it.
type Config struct {
	// BatchSize is how many outbox rows one round publishes. Default 500.
	BatchSize int
	// PollInterval is how often the relay looks at the outbox without a
	// commit signal (signals from other processes can be missed). Default 1s.
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed publish.
	// Defaults 100ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// Retain is how long sent rows are kept for re-publishing after an
	// unclean stop of the stream engine; it must exceed the engine's sync
	// interval (JetStream: 2 minutes) and stay within its duplicate window.
	// Default 5 minutes.
	Retain time.Duration
	// RecoverLimit bounds how many sent rows Recover reads back on start
	// when looking for the streams' last messages. Default 100,000.
	RecoverLimit int
	// TraceRetain is how long trace steps are kept: the active relay, the
	// one process per store that runs while the service does, also prunes
	// older ones, once a minute. 0 keeps them forever.
	TraceRetain time.Duration
	// LeaseName names the lease that makes the relay a singleton. Default
	// "outbox-relay".
	LeaseName string
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.Retain <= 0 {
		c.Retain = 5 * time.Minute
	}
	if c.RecoverLimit <= 0 {
		c.RecoverLimit = 100_000
	}
	if c.LeaseName == "" {
		c.LeaseName = "outbox-relay"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Relay publishes the outbox. Start it once; Stop it once.
type Relay struct {
	store  eventstore.Store
	pub    Publisher
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}
	traces *eventstore.TraceLog

	mu     sync.Mutex
	active bool
}

// New returns a relay over store and pub.
func New(store eventstore.Store, pub Publisher, cfg Config) *Relay {
	cfg = cfg.WithDefaults()
	return &Relay{store: store, pub: pub, cfg: cfg, traces: eventstore.NewTraceLog(store, cfg.Logger, "outbox relay")}
}

// Start runs the relay in the background until Stop.
func (r *Relay) Start(ctx context.Context) error {
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.done = make(chan struct{})
	tctx, stopTraces := context.WithCancel(context.WithoutCancel(ctx))
	tracesDone := make(chan struct{})
	go func() {
		defer close(tracesDone)
		r.traces.Run(tctx)
	}()
	go func() {
		defer close(r.done)
		r.run(ctx)
		stopTraces() // after the last round, so its steps are written too
		<-tracesDone
	}()
	return nil
}

// Stop ends the relay and waits for it (or for ctx).
func (r *Relay) Stop(ctx context.Context) error {
	if r.cancel == nil {
		return nil
	}
	r.cancel()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop outbox relay: %w", ctx.Err())
	}
}

// Active reports whether this relay holds the lease.
func (r *Relay) Active() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active
}

func (r *Relay) setActive(v bool) {
	r.mu.Lock()
	r.active = v
	r.mu.Unlock()
}

// run waits for the lease, relays while it holds it, and starts over when
// the lease is lost.
func (r *Relay) run(ctx context.Context) {
	for ctx.Err() == nil {
		lease, ok, err := r.store.TryLease(ctx, r.cfg.LeaseName)
		if err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("outbox relay: take the lease", "err", err)
		}
		if !ok {
			if !sleep(ctx, r.cfg.PollInterval) {
				return
			}
			continue
		}
		r.setActive(true)
		r.cfg.Logger.Info("outbox relay active")
		r.lead(ctx, lease)
		r.setActive(false)
		if err := lease.Release(); err != nil {
			r.cfg.Logger.Warn("outbox relay: release the lease", "err", err)
		}
	}
}

// lead relays while the lease holds.
func (r *Relay) lead(ctx context.Context, lease eventstore.Lease) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lease.Lost():
			r.cfg.Logger.Warn("outbox relay: lease lost; stepping down")
			cancel()
		case <-ctx.Done():
		}
	}()
	signal, unsubscribe := r.store.Subscribe()
	defer unsubscribe()
	backoff := r.cfg.MinBackoff
	recovered := false
	lastPrune := time.Time{}
	// next is the round read with the last one's mark, empty for none.
	var next []eventstore.OutboxEntry
	for ctx.Err() == nil {
		var err error
		if !recovered {
			err = r.Recover(ctx)
			recovered = err == nil
		}
		if err == nil {
			_, next, err = r.relayOnce(ctx, next, r.traces.Add)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.cfg.Logger.Warn("outbox relay: will retry", "err", err, "backoff", backoff.String())
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, r.cfg.MaxBackoff)
			continue
		}
		backoff = r.cfg.MinBackoff
		if time.Since(lastPrune) > time.Minute {
			if _, err := r.store.PruneOutbox(ctx, time.Now().Add(-r.cfg.Retain)); err != nil && ctx.Err() == nil {
				r.cfg.Logger.Warn("outbox relay: prune", "err", err)
			}
			r.pruneTraces(ctx)
			lastPrune = time.Now()
		}
		if len(next) > 0 {
			continue // more is waiting, read with the mark
		}
		select {
		case <-ctx.Done():
			return
		case <-signal:
		case <-time.After(r.cfg.PollInterval):
		}
	}
}

// Bounds of one pruning of trace steps: small deletes, so that an append
// never waits long behind one (SQLite has a single writer), for at most a
// few seconds a minute. A backlog beyond that is worked off in the next
// minutes.
const (
	tracePruneChunk  = 2000
	tracePruneBudget = 5 * time.Second
)

// pruneTraces deletes trace steps older than TraceRetain.
func (r *Relay) pruneTraces(ctx context.Context) {
	if r.cfg.TraceRetain <= 0 {
		return
	}
	before := time.Now().Add(-r.cfg.TraceRetain)
	for began := time.Now(); time.Since(began) < tracePruneBudget; {
		n, err := r.store.PruneTraceSteps(ctx, before, tracePruneChunk)
		if err != nil {
			if ctx.Err() == nil {
				r.cfg.Logger.Warn("outbox relay: prune trace steps", "err", err)
			}
			return
		}
		if n < tracePruneChunk {
			return
		}
	}
}

// RelayOnce publishes one batch of pending rows in order and marks them
// sent, then records their trace steps. It stops at the first failure:
// later rows wait, so each stream keeps its order.
func (r *Relay) RelayOnce(ctx context.Context) (int, error) {
	n, _, err := r.relayOnce(ctx, nil, func(steps []eventstore.TraceStep) {
		if err := r.store.RecordTraceSteps(ctx, steps); err != nil {
			r.cfg.Logger.Warn("outbox relay: record trace steps", "err", err)
		}
	})
	return n, err
}

// relayOnce is RelayOnce for the rows of pending (read from the outbox
// when there are none), handing the trace steps to trace once the rows
// are marked sent, and returns how many it relayed. After a round that
// published everything it also returns the next round's rows, read in the
// mark's round trip.
func (r *Relay) relayOnce(ctx context.Context, pending []eventstore.OutboxEntry, trace func([]eventstore.TraceStep)) (int, []eventstore.OutboxEntry, error) {
	if len(pending) == 0 {
		var err error
		if pending, err = r.store.PendingOutbox(ctx, r.cfg.BatchSize); err != nil {
			return 0, nil, fmt.Errorf("read outbox: %w", err)
		}
	}
	streams, pubErr := r.publish(ctx, pending)
	published := time.Now().UTC()
	ids := make([]int64, 0, len(streams))
	traced := make([]eventstore.TracedEvent, 0, len(streams))
	for i, stream := range streams {
		p := pending[i]
		ids = append(ids, p.ID)
		if tid := p.Event.Metadata.TraceID; tid != "" {
			traced = append(traced, eventstore.TracedEvent{TraceID: tid, Detail: p.Event.Type + " to stream " + stream})
		}
	}
	steps := eventstore.StepsByTrace("relay", "published", published, traced)
	var next []eventstore.OutboxEntry
	if len(ids) > 0 {
		// A stop that comes after the publish still lets the rows be
		// marked: left unmarked, the next relay publishes them again, and
		// the streams drop those duplicates only within their window.
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
		var err error
		if pubErr == nil && ctx.Err() == nil {
			next, err = r.store.MarkSentThenPending(mctx, ids, r.cfg.BatchSize)
		} else {
			err = r.store.MarkSent(mctx, ids)
		}
		cancel()
		if err != nil {
			// Published but not marked: the next round publishes again and
			// the stream drops the duplicates.
			return 0, nil, errors.Join(pubErr, fmt.Errorf("mark sent: %w", err))
		}
		if len(steps) > 0 {
			trace(steps)
		}
	}
	return len(ids), next, pubErr
}

// publish publishes the events of pending in order and returns the streams
// of those published, a prefix of pending, and the error that stopped it.
func (r *Relay) publish(ctx context.Context, pending []eventstore.OutboxEntry) ([]string, error) {
	if bp, ok := r.pub.(BatchPublisher); ok && len(pending) > 1 {
		events := make([]eventstore.Event, len(pending))
		for i, p := range pending {
			events[i] = p.Event
		}
		streams, err := bp.PublishBatch(ctx, events)
		if err != nil && len(streams) < len(pending) {
			err = fmt.Errorf("publish %s %s: %w", pending[len(streams)].Event.Type, pending[len(streams)].Event.ID, err)
		}
		return streams, err
	}
	streams := make([]string, 0, len(pending))
	for _, p := range pending {
		stream, err := r.pub.Publish(ctx, p.Event)
		if err != nil {
			return streams, fmt.Errorf("publish %s %s: %w", p.Event.Type, p.Event.ID, err)
		}
		streams = append(streams, stream)
	}
	return streams, nil
}

// markTimeout bounds marking published rows sent. The mark runs on past a
// stop of the relay, so the stop's cancellation no longer bounds it.
const markTimeout = 5 * time.Second

// recoverPage is how many sent rows Recover reads at a time.
const recoverPage = 1000

// Recover publishes again the recently sent rows each stream lacks: those
// published after the stream's last message. It reads the sent rows back
// from the last published, a page at a time, until it has met every
// stream's last message or read them all (at most RecoverLimit), and
// publishes what each stream lacks in the order it was first published. A
// stream whose last message it never meets (an empty stream, or one whose
// last message is older than the rows kept) gets all of its rows read; the
// duplicate window drops any it already holds.
func (r *Relay) Recover(ctx context.Context) error {
	streams := r.pub.Streams()
	last := make(map[string]uuid.UUID, len(streams))
	for _, stream := range streams {
		id, ok, err := r.pub.LastEventID(ctx, stream)
		if err != nil {
			return fmt.Errorf("last message of %s: %w", stream, err)
		}
		if ok {
			last[stream] = id
		}
	}
	since := time.Now().Add(-r.cfg.Retain)
	lacking := map[string][]eventstore.OutboxEntry{} // newest first
	met := map[string]bool{}
	var before *eventstore.OutboxEntry
	read := 0
	for len(met) < len(streams) && read < r.cfg.RecoverLimit {
		page, err := r.store.SentOutbox(ctx, since, before, min(recoverPage, r.cfg.RecoverLimit-read))
		if err != nil {
			return fmt.Errorf("read sent outbox: %w", err)
		}
		if len(page) == 0 {
			break
		}
		read += len(page)
		before = &page[len(page)-1]
		for _, e := range page {
			stream, _ := r.pub.StreamOf(e.Event)
			switch id, ok := last[stream]; {
			case met[stream]:
			case ok && id == e.Event.ID:
				met[stream] = true
			default:
				lacking[stream] = append(lacking[stream], e)
			}
		}
	}
	for _, stream := range streams {
		if _, known := last[stream]; known && !met[stream] && read >= r.cfg.RecoverLimit {
			r.cfg.Logger.Warn("outbox relay: the stream's last message is older than the rows read back; "+
				"events between them are not published again", "stream", stream, "rows_read_limit", r.cfg.RecoverLimit)
		}
		mine := lacking[stream]
		if len(mine) == 0 {
			continue
		}
		slices.Reverse(mine)
		for chunk := range slices.Chunk(mine, r.cfg.BatchSize) {
			if _, err := r.publish(ctx, chunk); err != nil {
				return fmt.Errorf("re-publish to %s: %w", stream, err)
			}
		}
		r.cfg.Logger.Info("outbox relay: re-published events the stream lacked", "stream", stream, "events", len(mine))
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
