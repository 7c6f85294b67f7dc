package projection

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// Config is what a Runner needs.
type Config struct {
	DB *DB
	// Store is read by rebuilds (the global log) and records trace steps.
	Store eventstore.Store
	// Broker delivers live events; nil runs no consumers (rebuild only).
	Broker      *stream.Broker
	Projections []Projection
	Logger      *slog.Logger
}

// Runner keeps read models up to date.
type Runner struct {
	db        *DB
	store     eventstore.Store
	broker    *stream.Broker
	logger    *slog.Logger
	byName    map[string]Projection
	order     []Projection
	mu        sync.Mutex
	consumers map[string]*stream.Consumer
	wg        sync.WaitGroup
	cancel    context.CancelFunc
	// traces records the live batches' trace steps; it runs from Start to
	// Stop, after the consumers.
	traces     *eventstore.TraceLog
	stopTraces context.CancelFunc
	tracesDone chan struct{}
	// rebuildBatch is how many events of the global log a rebuild reads
	// and applies per transaction: defaultRebuildBatch but in tests.
	rebuildBatch int
}

// New checks the projections and prepares the registry.
func New(ctx context.Context, cfg Config) (*Runner, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Runner{db: cfg.DB, store: cfg.Store, broker: cfg.Broker, logger: cfg.Logger,
		byName: map[string]Projection{}, consumers: map[string]*stream.Consumer{}, rebuildBatch: defaultRebuildBatch}
	for _, p := range cfg.Projections {
		if _, dup := r.byName[p.Name()]; dup {
			return nil, fmt.Errorf("projection %s: defined twice", p.Name())
		}
		r.byName[p.Name()] = p
		r.order = append(r.order, p)
	}
	if _, err := r.db.Write.ExecContext(ctx, registryDDL); err != nil {
		return nil, fmt.Errorf("projections registry: %w", err)
	}
	for _, p := range r.order {
		if err := r.ensure(ctx, p); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// ensure gives a projection its first generation.
func (r *Runner) ensure(ctx context.Context, p Projection) error {
	return r.db.inTx(ctx, func(tx *sql.Tx) error {
		gen, _, err := r.current(ctx, tx, p, lockSwap)
		if err != nil || gen > 0 {
			return err
		}
		if _, err := r.createGeneration(ctx, tx, p, 1, false); err != nil {
			return err
		}
		return r.showGeneration(ctx, tx, p, 1)
	})
}

// Start consumes live events; a projection whose table definitions changed
// since its tables were built is rebuilt in the background first (reads see
// the old tables until the rebuild swaps them in).
func (r *Runner) Start(ctx context.Context) error {
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	var tctx context.Context
	tctx, r.stopTraces = context.WithCancel(context.WithoutCancel(ctx))
	r.traces, r.tracesDone = eventstore.NewTraceLog(r.store, r.logger, "projection"), make(chan struct{})
	go func() {
		defer close(r.tracesDone)
		r.traces.Run(tctx)
	}()
	for _, p := range r.order {
		var gen int
		var hash string
		err := r.db.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			gen, hash, err = r.current(ctx, tx, p, lockShare)
			return err
		})
		if err != nil {
			return err
		}
		if hash != schemaHash(p, r.db.Dialect) {
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				r.logger.Info("projection schema changed: rebuilding", "projection", p.Name(), "generation", gen)
				if err := r.rebuildStale(ctx, p); err != nil && ctx.Err() == nil {
					r.logger.Error("projection rebuild failed", "projection", p.Name(), "err", err)
				}
			}()
		}
		if r.broker == nil {
			continue
		}
		// Events that arrive while a batch is applied are applied together
		// next: one transaction for many events keeps a busy projection up
		// with the commands instead of paying a commit per event.
		cfg := stream.ConsumerConfig{Name: "projection-" + p.Name(), Streams: streamsOf(p)}
		// On Postgres a batch commits without waiting for the WAL flush, so
		// its rows are visible sooner, and its events are acknowledged only
		// once the flush has caught up: a crash that loses the commit gets
		// them delivered again.
		async := r.db.Dialect == Postgres
		if async {
			cfg.AckAfter, cfg.AckAfterEvery = r.db.flushed, ackEvery
		}
		c, err := r.broker.ConsumeBatch(ctx, cfg,
			func(ctx context.Context, events []eventstore.Event) error {
				return r.applyBatch(ctx, p.Name(), events, async, r.traces.Add)
			})
		if err != nil {
			return fmt.Errorf("projection %s: %w", p.Name(), err)
		}
		r.mu.Lock()
		r.consumers[p.Name()] = c
		r.mu.Unlock()
	}
	return nil
}

// Stop stops the consumers and any background rebuild.
func (r *Runner) Stop(context.Context) error {
	if r.cancel != nil {
		r.cancel()
	}
	r.mu.Lock()
	var errs []error
	for _, c := range r.consumers {
		errs = append(errs, c.Stop())
	}
	r.mu.Unlock()
	r.wg.Wait()
	if r.stopTraces != nil {
		r.stopTraces()
		<-r.tracesDone
	}
	return errors.Join(errs...)
}

func streamsOf(p Projection) []string {
	var out []string
	for _, c := range p.Categories() {
		if s, ok := stream.StreamFor(c); ok && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Apply applies one live event to the generation readers see, once.
func (r *Runner) Apply(ctx context.Context, name string, e eventstore.Event) error {
	return r.ApplyBatch(ctx, name, []eventstore.Event{e})
}

// ApplyBatch applies events, in order, in one transaction that also stores
// the positions they reach: all of them take effect or none. Events already
// applied are skipped. It returns once their trace steps are recorded too.
func (r *Runner) ApplyBatch(ctx context.Context, name string, events []eventstore.Event) error {
	return r.applyBatch(ctx, name, events, false, func(steps []eventstore.TraceStep) {
		if err := r.store.RecordTraceSteps(ctx, steps); err != nil {
			r.logger.Warn("projection: record trace step", "err", err)
		}
	})
}

// ackEvery is how long a live batch's events wait at least for the flush
// that lets them be acknowledged: each flush is a synchronous commit, and
// one every few batches weighs on the disk far less than one per batch.
const ackEvery = 50 * time.Millisecond

// applyBatch is ApplyBatch handing the trace steps of what it applied to
// trace, after the commit. With async, the commit does not wait for the
// disk (see DB.flushed).
func (r *Runner) applyBatch(ctx context.Context, name string, events []eventstore.Event, async bool, trace func([]eventstore.TraceStep)) error {
	p, ok := r.byName[name]
	if !ok {
		return fmt.Errorf("projection %q is not defined", name)
	}
	cats := p.Categories()
	mine := make([]eventstore.Event, 0, len(events))
	for _, e := range events {
		if slices.Contains(cats, e.Category()) { // its stream carries other categories too
			mine = append(mine, e)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	var applied []eventstore.Event
	known := map[string]int64{}
	first := &firstRead{
		query: func(gen int) string { return positionsQuery(p, gen) },
		keys:  eventStreams(mine),
		scan:  scanPosition(known),
	}
	err := r.db.inBatchTx(ctx, p, async, first, func(t *Tx, gen int, firstDone bool) error {
		var read map[string]int64
		if firstDone {
			read = known
		}
		var err error
		applied, err = r.applyTo(ctx, t, p, gen, mine, read)
		return err
	})
	if err != nil {
		return err
	}
	traced := make([]eventstore.TracedEvent, len(applied))
	for i, e := range applied {
		traced[i] = eventstore.TracedEvent{TraceID: e.Metadata.TraceID, Detail: e.Type}
	}
	if steps := eventstore.StepsByTrace("projection."+name, "applied", time.Time{}, traced); len(steps) > 0 {
		trace(steps)
	}
	return nil
}

// Names lists the projections.
func (r *Runner) Names() []string {
	var out []string
	for _, p := range r.order {
		out = append(out, p.Name())
	}
	return out
}

// Status is how far a projection got.
type Status struct {
	Name       string `json:"name"`
	Generation int    `json:"generation"`
	// Position is the highest global position applied.
	Position int64 `json:"position"`
	// Streams is how many event-store streams it has applied events of.
	Streams int64 `json:"streams"`
	// LagEvents is how many events its consumers have not finished: yet to
	// apply, or (on Postgres, for a moment) applied and waiting for the
	// flush that lets them be acknowledged.
	LagEvents uint64 `json:"lag_events"`
	// LagSeconds is how old the newest applied event is when events are
	// waiting (0 when caught up): how far behind readers see.
	LagSeconds float64 `json:"lag_seconds"`
}

// Status reports every projection.
func (r *Runner) Status(ctx context.Context) ([]Status, error) {
	var out []Status
	for _, p := range r.order {
		st := Status{Name: p.Name()}
		var last sql.NullString
		err := r.db.inTx(ctx, func(tx *sql.Tx) error {
			gen, _, err := r.current(ctx, tx, p, lockShare)
			if err != nil {
				return err
			}
			st.Generation = gen
			if err := r.db.scanWhole(ctx, tx); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(global_position), 0), COUNT(*), MAX(recorded_at) FROM `+positionsTable(p, gen)).
				Scan(&st.Position, &st.Streams, &last)
		})
		if err != nil {
			return nil, fmt.Errorf("projection %s: status: %w", p.Name(), err)
		}
		if st.LagEvents, err = r.lagOf(ctx, p.Name()); err != nil {
			return nil, err
		}
		if st.LagEvents > 0 && last.Valid {
			if t, err := time.Parse("2006-01-02T15:04:05.000000Z", last.String); err == nil {
				st.LagSeconds = time.Since(t).Seconds()
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// Lag is each projection's Status.LagEvents, without Status's reads of the
// read database: what a metrics scrape can afford.
func (r *Runner) Lag(ctx context.Context) (map[string]uint64, error) {
	out := make(map[string]uint64, len(r.order))
	for _, p := range r.order {
		n, err := r.lagOf(ctx, p.Name())
		if err != nil {
			return nil, err
		}
		out[p.Name()] = n
	}
	return out, nil
}

// lagOf sums the lag of the named projection's consumers.
func (r *Runner) lagOf(ctx context.Context, name string) (uint64, error) {
	r.mu.Lock()
	c := r.consumers[name]
	r.mu.Unlock()
	if c == nil {
		return 0, nil
	}
	lag, err := c.Lag(ctx)
	if err != nil {
		return 0, err
	}
	var sum uint64
	for _, n := range lag {
		sum += n
	}
	return sum, nil
}
