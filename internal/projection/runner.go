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
}

// New checks the projections and prepares the registry.
func New(ctx context.Context, cfg Config) (*Runner, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Runner{db: cfg.DB, store: cfg.Store, broker: cfg.Broker, logger: cfg.Logger,
		byName: map[string]Projection{}, consumers: map[string]*stream.Consumer{}}
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
		gen, _, err := r.current(ctx, tx, p, true)
		if err != nil || gen > 0 {
			return err
		}
		if err := r.createGeneration(ctx, tx, p, 1); err != nil {
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
	for _, p := range r.order {
		var gen int
		var hash string
		err := r.db.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			gen, hash, err = r.current(ctx, tx, p, false)
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
				if err := r.Rebuild(ctx, p.Name(), nil); err != nil && ctx.Err() == nil {
					r.logger.Error("projection rebuild failed", "projection", p.Name(), "err", err)
				}
			}()
		}
		if r.broker == nil {
			continue
		}
		c, err := r.broker.Consume(ctx, stream.ConsumerConfig{Name: "projection-" + p.Name(), Streams: streamsOf(p)},
			func(ctx context.Context, e eventstore.Event, _ stream.Delivery) error {
				return r.Apply(ctx, p.Name(), e)
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
	p, ok := r.byName[name]
	if !ok {
		return fmt.Errorf("projection %q is not defined", name)
	}
	if !slices.Contains(p.Categories(), e.Category()) {
		return nil // its stream carries other categories too
	}
	applied := false
	err := r.db.inTx(ctx, func(tx *sql.Tx) error {
		gen, _, err := r.current(ctx, tx, p, false)
		if err != nil {
			return err
		}
		applied, err = r.applyTo(ctx, tx, p, gen, e)
		return err
	})
	if err == nil && applied && e.Metadata.TraceID != "" {
		if terr := r.store.RecordTraceSteps(ctx, []eventstore.TraceStep{{TraceID: e.Metadata.TraceID,
			Step: "projection." + name, Status: "applied", Detail: e.Type}}); terr != nil {
			r.logger.Warn("projection: record trace step", "err", terr)
		}
	}
	return err
}

// rebuildBatch is how many events of the global log a rebuild applies per
// transaction.
const rebuildBatch = 1000

// Rebuild builds a new generation of a projection from the event store's
// global log, then swaps it in. Reads are served from the old tables until
// the swap; the old tables are dropped after. progress, when set, is called
// with the number of events applied so far.
//
// The swap happens in one transaction that holds the registry row, so the
// live consumer waits: it applies what was appended meanwhile, checks that
// the new generation has every event the old one has (on Postgres the global
// log can lag behind what the live consumer already applied, while an older
// transaction anywhere on the server is open; then the swap waits and tries
// again), points the views at the new tables and records the generation.
func (r *Runner) Rebuild(ctx context.Context, name string, progress func(events int)) error {
	p, ok := r.byName[name]
	if !ok {
		return fmt.Errorf("projection %q is not defined (projections: %v)", name, r.Names())
	}
	var old int
	if err := r.db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		old, _, err = r.current(ctx, tx, p, false)
		return err
	}); err != nil {
		return err
	}
	next := old + 1
	if err := r.db.inTx(ctx, func(tx *sql.Tx) error { return r.createGeneration(ctx, tx, p, next) }); err != nil {
		return err
	}
	b := &rebuild{r: r, p: p, gen: next, progress: progress}
	// Everything committed before the rebuild began: read up to the head.
	if err := b.toHead(ctx); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		swapped := false
		err := r.db.inTx(ctx, func(tx *sql.Tx) error {
			if _, _, err := r.current(ctx, tx, p, true); err != nil {
				return err
			}
			if err := b.drain(ctx, tx); err != nil {
				return err
			}
			behind, err := r.behind(ctx, tx, p, old, next)
			if err != nil || behind > 0 {
				return err
			}
			swapped = true
			return r.showGeneration(ctx, tx, p, next)
		})
		if err != nil {
			return err
		}
		if swapped {
			break
		}
		if attempt >= 600 {
			return fmt.Errorf("projection %s: the rebuild could not catch up with the live read model", name)
		}
		// Let the global log catch up outside the lock, then try again.
		if err := b.toHead(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if progress != nil {
		progress(b.done)
	}
	if old > 0 {
		if err := r.dropGeneration(ctx, p, old); err != nil {
			r.logger.Warn("projection: drop the old generation", "projection", name, "generation", old, "err", err)
		}
	}
	return nil
}

// behind counts the streams of which generation old has applied more than
// generation next.
func (r *Runner) behind(ctx context.Context, tx *sql.Tx, p Projection, old, next int) (int, error) {
	if old == 0 {
		return 0, nil
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+positionsTable(p, old)+` o LEFT JOIN `+positionsTable(p, next)+
		` n ON n.stream_id = o.stream_id WHERE n.version IS NULL OR n.version < o.version`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("projection %s: compare generations: %w", p.Name(), err)
	}
	return n, nil
}

// rebuild is the state of one rebuild: how far it read the global log.
type rebuild struct {
	r        *Runner
	p        Projection
	gen      int
	after    eventstore.Position
	done     int
	progress func(int)
}

// toHead applies the global log up to its current head, in batches of one
// transaction each, waiting for the log to reach the head.
func (b *rebuild) toHead(ctx context.Context) error {
	head, ok, err := b.r.store.Head(ctx, b.p.Categories())
	if err != nil {
		return fmt.Errorf("projection %s: head of the global log: %w", b.p.Name(), err)
	}
	seen := !ok
	for {
		var batch []eventstore.Event
		err := b.r.db.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			batch, err = b.batch(ctx, tx)
			return err
		})
		if err != nil {
			return err
		}
		for _, e := range batch {
			seen = seen || e.ID == head
		}
		if len(batch) > 0 {
			continue
		}
		if seen {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond): // the log lags behind a transaction still open
		}
	}
}

// drain applies what the global log returns until it returns nothing.
func (b *rebuild) drain(ctx context.Context, tx *sql.Tx) error {
	for {
		batch, err := b.batch(ctx, tx)
		if err != nil || len(batch) == 0 {
			return err
		}
	}
}

// batch reads and applies one batch of the global log in tx.
func (b *rebuild) batch(ctx context.Context, tx *sql.Tx) ([]eventstore.Event, error) {
	batch, err := b.r.store.ReadAll(ctx, &eventstore.ReadAllParams{After: b.after, Limit: rebuildBatch, Categories: b.p.Categories()})
	if err != nil {
		return nil, fmt.Errorf("projection %s: read the global log: %w", b.p.Name(), err)
	}
	for _, e := range batch {
		if _, err := b.r.applyTo(ctx, tx, b.p, b.gen, e); err != nil {
			return nil, err
		}
	}
	if len(batch) > 0 {
		b.after, b.done = batch[len(batch)-1].Position, b.done+len(batch)
		if b.progress != nil {
			b.progress(b.done)
		}
	}
	return batch, nil
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
	// LagEvents is how many events its consumers have yet to apply.
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
			gen, _, err := r.current(ctx, tx, p, false)
			if err != nil {
				return err
			}
			st.Generation = gen
			return tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(global_position), 0), COUNT(*), MAX(recorded_at) FROM `+positionsTable(p, gen)).
				Scan(&st.Position, &st.Streams, &last)
		})
		if err != nil {
			return nil, fmt.Errorf("projection %s: status: %w", p.Name(), err)
		}
		r.mu.Lock()
		c := r.consumers[p.Name()]
		r.mu.Unlock()
		if c != nil {
			lag, err := c.Lag(ctx)
			if err != nil {
				return nil, err
			}
			for _, n := range lag {
				st.LagEvents += n
			}
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
