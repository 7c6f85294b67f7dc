package projection

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"golang.org/x/sync/errgroup"
)

// defaultRebuildBatch is how many events of the global log a rebuild
// reads and applies per transaction: enough that the statements and the
// commit of a batch cost little per event, few enough that a batch's rows
// fit in memory many times over. (10,000 and 20,000 were no faster.)
const defaultRebuildBatch = 5000

// Rebuild builds a new generation of a projection from the event store's
// global log, then swaps it in. Reads are served from the old tables until
// the swap; the old tables are dropped after. progress, when set, is called
// with the number of events applied so far.
//
// The new tables get their secondary indexes once they hold the log up to
// its head. Each batch is read (and prepared, when the projection is a
// Preparer) while the one before is being applied, and applied in one
// transaction (with one call of ApplyBatch when the projection is a
// Batcher). On Postgres the batches commit without waiting for the disk:
// a crash loses the unfinished generation, which the next rebuild drops
// and starts again, so only the swap needs to be durable.
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
	unlock, err := r.rebuildLock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	return r.rebuild(ctx, p, progress)
}

// rebuildStale rebuilds p unless, by the time no other process is
// rebuilding it, its tables already have its current schema: every process
// of a deployment finds a changed schema when it starts, and one rebuild
// is enough.
func (r *Runner) rebuildStale(ctx context.Context, p Projection) error {
	unlock, err := r.rebuildLock(ctx, p.Name())
	if err != nil {
		return err
	}
	defer unlock()
	var hash string
	if err := r.db.inTx(ctx, func(tx *sql.Tx) (err error) {
		_, hash, err = r.current(ctx, tx, p, lockShare)
		return err
	}); err != nil {
		return err
	}
	if hash == schemaHash(p, r.db.Dialect) {
		return nil
	}
	return r.rebuild(ctx, p, nil)
}

// rebuildLock keeps other processes from rebuilding the projection name at
// the same time, which would drop each other's new tables: on Postgres a
// session advisory lock, held on a connection of its own until unlock. On
// SQLite one process owns the files.
func (r *Runner) rebuildLock(ctx context.Context, name string) (unlock func(), err error) {
	if r.db.Dialect != Postgres {
		return func() {}, nil
	}
	conn, err := r.db.Write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("projection %s: rebuild lock: %w", name, err)
	}
	key := "bluepoint projection rebuild " + name
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtext($1))`, key); err != nil {
		conn.Close()
		return nil, fmt.Errorf("projection %s: rebuild lock: %w", name, err)
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext($1))`, key)
		conn.Close()
	}, nil
}

func (r *Runner) rebuild(ctx context.Context, p Projection, progress func(events int)) error {
	name := p.Name()
	var old int
	if err := r.db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		old, _, err = r.current(ctx, tx, p, lockShare)
		return err
	}); err != nil {
		return err
	}
	next := old + 1
	var indexes []string
	if err := r.db.inTx(ctx, func(tx *sql.Tx) (err error) {
		indexes, err = r.createGeneration(ctx, tx, p, next, true)
		return err
	}); err != nil {
		return err
	}
	b := &rebuild{r: r, p: p, gen: next, progress: progress}
	defer b.stopReading()
	// Everything committed before the rebuild began: read up to the head.
	if err := b.toHead(ctx); err != nil {
		return err
	}
	if err := r.buildIndexes(ctx, name, next, indexes); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		swapped := false
		err := r.db.inTx(ctx, func(tx *sql.Tx) error {
			if _, _, err := r.current(ctx, tx, p, lockSwap); err != nil {
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

// indexBuilders is how many of a new generation's indexes Postgres builds
// at once, each on its own connection: a GIN index, and a B-tree too small
// for parallel workers, is one backend's work, and two at once keep both
// cores of a small server busy.
const indexBuilders = 2

// buildIndexes builds a new generation's deferred indexes. The generation
// is not visible until the swap, so they need not be built in one
// transaction; on SQLite there is one writer, and they are built in turn.
func (r *Runner) buildIndexes(ctx context.Context, name string, gen int, indexes []string) error {
	if r.db.Dialect == SQLite {
		return r.db.inTx(ctx, func(tx *sql.Tx) error {
			for _, q := range indexes {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("projection %s: index generation %d: %w", name, gen, err)
				}
			}
			return nil
		})
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(indexBuilders)
	for _, q := range slowFirst(indexes) {
		g.Go(func() error {
			// The builders are the parallelism: a B-tree build's own
			// parallel workers would take the CPU the GIN build beside it
			// needs.
			err := r.db.inTx(gctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(gctx, `SET LOCAL max_parallel_maintenance_workers = 0`); err != nil {
					return err
				}
				_, err := tx.ExecContext(gctx, q)
				return err
			})
			if err != nil {
				return fmt.Errorf("projection %s: index generation %d: %w", name, gen, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// slowFirst orders indexes for the builders: GIN indexes first. Building
// one (the event log's full-text index) takes longer than the B-trees
// together, so started last it ran on after them while the other builder
// was idle; started first, the B-trees are built beside it. (101,000
// events: the GIN index 0.97 s, the three B-trees 0.7 s.)
func slowFirst(indexes []string) []string {
	out := slices.Clone(indexes)
	slices.SortStableFunc(out, func(a, b string) int {
		ga, gb := strings.Contains(a, " USING GIN "), strings.Contains(b, " USING GIN ")
		switch {
		case ga && !gb:
			return -1
		case gb && !ga:
			return 1
		}
		return 0
	})
	return out
}

// behind counts the streams of which generation old has applied more than
// generation next.
func (r *Runner) behind(ctx context.Context, tx *sql.Tx, p Projection, old, next int) (int, error) {
	if old == 0 {
		return 0, nil
	}
	if err := r.db.scanWhole(ctx, tx); err != nil {
		return 0, fmt.Errorf("projection %s: compare generations: %w", p.Name(), err)
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+positionsTable(p, old)+` o LEFT JOIN `+positionsTable(p, next)+
		` n ON n.stream_id = o.stream_id WHERE n.version IS NULL OR n.version < o.version`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("projection %s: compare generations: %w", p.Name(), err)
	}
	return n, nil
}

// rebuild is the state of one rebuild: how far it read the global log, and
// the read of the next batch when one is under way.
type rebuild struct {
	r        *Runner
	p        Projection
	gen      int
	after    eventstore.Position
	done     int
	progress func(int)
	ahead    chan ahead
}

// ahead is a batch read from the global log: read, its events of every
// category (they say whether the log has more); mine, the projection's,
// chosen and prepared.
type ahead struct {
	read []eventstore.Event
	mine chosen
	err  error
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
		err := b.r.db.inRebuildTx(ctx, func(tx *sql.Tx, copyRows copyFunc) error {
			var err error
			batch, err = b.batch(ctx, &Tx{tx: tx, dialect: b.r.db.Dialect, tables: tablesOf(b.p, b.gen), copyRows: copyRows, alone: true})
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
	t := &Tx{tx: tx, dialect: b.r.db.Dialect, tables: tablesOf(b.p, b.gen), alone: true}
	for {
		batch, err := b.batch(ctx, t)
		if err != nil || len(batch) == 0 {
			return err
		}
	}
}

// next returns the next batch of the global log after b.after. A batch
// read ahead serves if it holds events; an empty one is read again, since
// the log may have grown since.
func (b *rebuild) next(ctx context.Context) ahead {
	if b.ahead != nil {
		a := <-b.ahead
		b.ahead = nil
		if a.err != nil || len(a.read) > 0 {
			return a
		}
	}
	return b.readAt(ctx, b.after)
}

// readAt reads the batch after a position, of every category the
// projection reads (and, when it reads several, of the others too), and
// chooses and prepares the projection's events. A rebuild reads the log
// past everything its generation has: every event of a batch is new to
// it, and choose drops only a stream version the batch holds twice.
func (b *rebuild) readAt(ctx context.Context, after eventstore.Position) ahead {
	params := &eventstore.ReadAllParams{After: after, Limit: b.r.rebuildBatch}
	// The store keeps the global log in order per category, so one category
	// reads in order from its index; a filter on several has to gather and
	// sort every later event of them on each read (on Postgres), which makes
	// a rebuild quadratic. Reading everything and keeping what the
	// projection reads costs only the events of the other categories.
	cats := b.p.Categories()
	if len(cats) == 1 {
		params.Categories = cats
	}
	read, err := b.r.store.ReadAll(ctx, params)
	if err != nil {
		return ahead{err: fmt.Errorf("projection %s: read the global log: %w", b.p.Name(), err)}
	}
	mine := read
	if len(cats) > 1 {
		mine = make([]eventstore.Event, 0, len(read))
		for _, e := range read {
			if slices.Contains(cats, e.Category()) {
				mine = append(mine, e)
			}
		}
	}
	c := choose(mine, map[string]int64{})
	if err := c.prepare(b.p); err != nil {
		return ahead{err: err}
	}
	return ahead{read: read, mine: c}
}

// readAhead starts reading the batch after b.after.
func (b *rebuild) readAhead(ctx context.Context) {
	ch := make(chan ahead, 1)
	b.ahead = ch
	after := b.after
	go func() { ch <- b.readAt(ctx, after) }()
}

// stopReading waits for a read ahead that nobody will take.
func (b *rebuild) stopReading() {
	if b.ahead != nil {
		<-b.ahead
		b.ahead = nil
	}
}

// batch reads and applies one batch of the global log in tx, while the
// next one is read and prepared. It returns the events read, of every
// category: they say whether the log has more.
func (b *rebuild) batch(ctx context.Context, tx *Tx) ([]eventstore.Event, error) {
	a := b.next(ctx)
	if a.err != nil || len(a.read) == 0 {
		return nil, a.err
	}
	b.after = a.read[len(a.read)-1].Position
	b.readAhead(ctx)
	if err := b.r.applyChosen(ctx, tx, b.p, b.gen, a.mine); err != nil {
		return nil, err
	}
	b.done += len(a.mine.fresh)
	if b.progress != nil {
		b.progress(b.done)
	}
	return a.read, nil
}
