package projection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/outbox"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/projection/projectiontest"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// counts is a test read model: how many events of each type, and the sum of
// their "n", so any double application shows.
type counts struct{}

func (counts) Name() string         { return "counts" }
func (counts) Categories() []string { return []string{"account"} }
func (counts) Tables() []string     { return []string{"event_counts"} }
func (counts) Create(projection.Dialect) []string {
	return []string{`CREATE TABLE {event_counts} (type TEXT PRIMARY KEY, events BIGINT NOT NULL, total BIGINT NOT NULL)`,
		`CREATE INDEX {event_counts}_events ON {event_counts} (events)`,
		`CREATE UNIQUE INDEX {event_counts}_total ON {event_counts} (total, type)`}
}

// aloneApplies counts the applies of counts that ran alone (in a rebuild).
var aloneApplies atomic.Int64

func (counts) Apply(ctx context.Context, tx *projection.Tx, e eventstore.Event) error {
	if tx.Alone() {
		aloneApplies.Add(1)
	}
	var d struct{ N int64 }
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO {event_counts} (type, events, total) VALUES (?, 1, ?)
		ON CONFLICT (type) DO UPDATE SET events = {event_counts}.events + 1, total = {event_counts}.total + excluded.total`, e.Type, d.N)
	return err
}

type world struct {
	store  eventstore.Store
	broker *stream.Broker
	db     *projection.DB
	runner *projection.Runner
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func forEachDB(t *testing.T, fn func(t *testing.T, w *world)) {
	projectiontest.ForEachEngine(t, func(t *testing.T, s eventstore.Store, db *projection.DB) {
		fn(t, newWorld(t, s, db))
	})
}

func newWorld(t *testing.T, s eventstore.Store, db *projection.DB) *world {
	b, err := stream.Open(ctxT(t), stream.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	relay := outbox.New(s, outbox.BrokerPublisher{Broker: b}, outbox.Config{PollInterval: 50 * time.Millisecond})
	if err := relay.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Stop(context.Background()) })
	r, err := projection.New(ctxT(t), projection.Config{DB: db, Store: s, Broker: b, Projections: []projection.Projection{counts{}}})
	if err != nil {
		t.Fatal(err)
	}
	return &world{store: s, broker: b, db: db, runner: r}
}

// appendN appends n events of type typ with n=1 each; other categories are
// mixed in and must be ignored.
func (w *world) appendN(t *testing.T, typ string, n int) []eventstore.Event {
	var out []eventstore.Event
	for i := 0; i < n; i++ {
		res, err := w.store.Append(ctxT(t), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
			{StreamID: "account-" + uuid.NewString(), Expected: eventstore.NoStream,
				Events: []eventstore.EventData{{Type: typ, Data: json.RawMessage(`{"n":1}`)}}},
			{StreamID: "product-" + uuid.NewString(), Expected: eventstore.NoStream,
				Events: []eventstore.EventData{{Type: "Ignored", Data: json.RawMessage(`{"n":100}`)}}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Events[0])
	}
	return out
}

func (w *world) count(t *testing.T, typ string) (events, total int64) {
	q := projection.Rebind(`SELECT events, total FROM event_counts WHERE type = ?`)
	_ = w.db.Read.QueryRowContext(ctxT(t), q, typ).Scan(&events, &total)
	return
}

func (w *world) waitFor(t *testing.T, typ string, want int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		events, total := w.count(t, typ)
		if events == want && total == want {
			return
		}
		if events > want || total != events {
			t.Fatalf("%s: %d events, total %d; want %d once each", typ, events, total, want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d events applied", typ, events, want)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
}

func TestLiveEventsApplyOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, w *world) {
		aloneApplies.Store(0)
		defer func() {
			// Live batches share their tables with the runners of other
			// processes: they must lock what they read.
			if n := aloneApplies.Load(); n != 0 {
				t.Errorf("%d live applies reported running alone", n)
			}
		}()
		if err := w.runner.Start(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		defer w.runner.Stop(context.Background())
		evs := w.appendN(t, "Opened", 40)
		w.waitFor(t, "Opened", 40)
		// Every event delivered a second time has no second effect.
		for _, e := range evs {
			if err := w.runner.Apply(ctxT(t), "counts", e); err != nil {
				t.Fatal(err)
			}
		}
		if events, _ := w.count(t, "Opened"); events != 40 {
			t.Fatalf("redelivery changed the count to %d", events)
		}
		st, err := w.runner.Status(ctxT(t))
		if err != nil || len(st) != 1 || st[0].Streams != 40 || st[0].Position == 0 || st[0].Generation != 1 {
			t.Fatalf("status %+v, %v", st, err)
		}
	})
}

// Live batches record, in the background, a trace step per trace listing
// the events applied; stopping the runner writes those still waiting.
func TestLiveTraceSteps(t *testing.T) {
	forEachDB(t, func(t *testing.T, w *world) {
		if err := w.runner.Start(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		stopped := false
		defer func() {
			if !stopped {
				w.runner.Stop(context.Background())
			}
		}()
		trace := "tr-" + uuid.NewString()
		for range 25 {
			_, err := w.store.Append(ctxT(t), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{{
				StreamID: "account-" + uuid.NewString(), Expected: eventstore.NoStream,
				Events: []eventstore.EventData{{Type: "Traced", Data: json.RawMessage(`{"n":1}`),
					Metadata: eventstore.Metadata{TraceID: trace}}}}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		w.waitFor(t, "Traced", 25)
		if err := w.runner.Stop(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		stopped = true
		steps, err := w.store.TraceSteps(ctxT(t), trace)
		if err != nil {
			t.Fatal(err)
		}
		applied := 0
		for _, st := range steps {
			if st.Step == "projection.counts" && st.Status == "applied" {
				applied += len(strings.Split(st.Detail, ", "))
			}
		}
		if applied != 25 {
			t.Fatalf("%d events in the projection steps recorded by the stop, want 25: %+v", applied, steps)
		}

	})
}

// A batch records one step per trace, listing the events it applied of
// that trace in order; events applied before have no step.
func TestBatchTraceStepsListTheirEvents(t *testing.T) {
	forEachDB(t, func(t *testing.T, w *world) {
		first, second := "tr-"+uuid.NewString(), "tr-"+uuid.NewString()
		var streams []eventstore.StreamAppend
		for i, tr := range []string{first, second, first, first} {
			streams = append(streams, eventstore.StreamAppend{StreamID: "account-" + uuid.NewString(), Expected: eventstore.NoStream,
				Events: []eventstore.EventData{{Type: fmt.Sprintf("Batched%d", i), Data: json.RawMessage(`{"n":1}`),
					Metadata: eventstore.Metadata{TraceID: tr}}}})
		}
		res, err := w.store.Append(ctxT(t), &eventstore.AppendParams{Streams: streams})
		if err != nil {
			t.Fatal(err)
		}
		// The runner is not started: no live consumer takes these first.
		if err := w.runner.ApplyBatch(ctxT(t), "counts", res.Events); err != nil {
			t.Fatal(err)
		}
		for tr, want := range map[string]string{first: "Batched0, Batched2, Batched3", second: "Batched1"} {
			steps, err := w.store.TraceSteps(ctxT(t), tr)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, st := range steps {
				if st.Step == "projection.counts" {
					got = append(got, st.Detail)
				}
			}
			if len(got) != 1 || got[0] != want {
				t.Fatalf("trace %s: projection steps %q, want one listing %q", tr, got, want)
			}
		}
	})
}

// A rebuild while events keep coming ends with the same read model, built
// from the global log, on a new generation.
func TestRebuildWhileLive(t *testing.T) {
	forEachDB(t, func(t *testing.T, w *world) {
		if err := w.runner.Start(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		defer w.runner.Stop(context.Background())
		w.appendN(t, "Opened", 30)
		w.waitFor(t, "Opened", 30)
		if w.db.Dialect == projection.Postgres {
			// An unrelated transaction holding an id: while it is open, the
			// global log lags behind what is committed, while the live
			// consumer applies it all. The rebuild must not swap in a
			// generation without what the live one already has.
			holdOpenTransaction(t, w.db, 1500*time.Millisecond)
		}
		w.appendN(t, "Opened", 10)
		w.waitFor(t, "Opened", 40)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.appendN(t, "Opened", 20)
		}()
		var seen []int
		if err := w.runner.Rebuild(ctxT(t), "counts", func(n int) { seen = append(seen, n) }); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		w.waitFor(t, "Opened", 60)
		st, _ := w.runner.Status(ctxT(t))
		if st[0].Generation != 2 || len(seen) == 0 {
			t.Fatalf("after rebuild: %+v, progress %v", st, seen)
		}
		// The rebuild builds the indexes after the load, two at a time on
		// Postgres: both must be on the new generation's table.
		idx := `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`
		if w.db.Dialect == projection.Postgres {
			idx = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 AND indexname NOT LIKE '%pkey' ORDER BY indexname`
		}
		var names []string
		rows, err := w.db.Read.QueryContext(ctxT(t), idx, "counts_event_counts_g2")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			names = append(names, s)
		}
		rows.Close()
		if want := []string{"counts_event_counts_g2_events", "counts_event_counts_g2_total"}; !slices.Equal(names, want) {
			t.Fatalf("indexes of the rebuilt table: %v, want %v", names, want)
		}
		var n int
		q := `SELECT COUNT(*) FROM counts_event_counts_g1`
		if err := w.db.Read.QueryRowContext(ctxT(t), q).Scan(&n); err == nil {
			t.Fatal("the old generation's table is still there")
		}
		if err := w.runner.Rebuild(ctxT(t), "nope", nil); err == nil {
			t.Fatal("rebuilding an unknown projection must fail")
		}
	})
}

// holdOpenTransaction keeps a transaction with an id open on the server for
// d, in the background.
func holdOpenTransaction(t *testing.T, db *projection.DB, d time.Duration) {
	tx, err := db.Write.BeginTx(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctxT(t), `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(d) // the length of the lag, not a wait for a condition
		tx.Rollback()
	}()
	t.Cleanup(func() { <-done })
}

// A changed schema is rebuilt once when every process of a deployment
// starts on it at the same time (on Postgres; SQLite has one process).
func TestChangedSchemaRebuildsOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, w *world) {
		if err := w.runner.Start(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		w.appendN(t, "Opened", 30)
		w.waitFor(t, "Opened", 30)
		if err := w.runner.Stop(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.db.Write.ExecContext(ctxT(t), `UPDATE projections SET schema_hash = 'changed' WHERE name = 'counts'`); err != nil {
			t.Fatal(err)
		}
		processes := 1
		if w.db.Dialect == projection.Postgres {
			processes = 3
		}
		// A rebuild that fails (one process dropping another's new tables)
		// is only logged: the test counts the errors.
		errs := &errorCount{}
		logger := slog.New(errs)
		var runners []*projection.Runner
		for range processes {
			r, err := projection.New(ctxT(t), projection.Config{DB: w.db, Store: w.store, Broker: w.broker, Logger: logger,
				Projections: []projection.Projection{counts{}}})
			if err != nil {
				t.Fatal(err)
			}
			runners = append(runners, r)
		}
		for _, r := range runners {
			if err := r.Start(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			defer r.Stop(context.Background())
		}
		deadline := time.Now().Add(time.Minute)
		for stable := 0; stable < 10; {
			st, err := runners[0].Status(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			switch gen := st[0].Generation; {
			case gen > 2:
				t.Fatalf("generation %d: the changed schema was rebuilt more than once", gen)
			case gen == 2:
				stable++ // and stays so while the others get the lock
			case time.Now().After(deadline):
				t.Fatalf("still generation %d", gen)
			}
			time.Sleep(100 * time.Millisecond) // polling with a deadline
		}
		w.waitFor(t, "Opened", 30)
		if n := errs.n.Load(); n > 0 {
			t.Fatalf("%d errors logged while the processes rebuilt", n)
		}
	})
}

// errorCount is a slog handler that counts the records of level error.
type errorCount struct{ n atomic.Int64 }

func (h *errorCount) Enabled(context.Context, slog.Level) bool { return true }
func (h *errorCount) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.n.Add(1)
	}
	return nil
}
func (h *errorCount) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorCount) WithGroup(string) slog.Handler      { return h }

// The index builders of a rebuild start with the GIN indexes, the slowest
// to build, and otherwise keep the projection's order.
func TestRebuildBuildsGINIndexesFirst(t *testing.T) {
	in := []string{
		`CREATE INDEX a ON t (x)`,
		`CREATE INDEX b ON t USING GIN (to_tsvector('simple', d))`,
		`CREATE INDEX c ON t (y)`,
		`CREATE INDEX d ON t USING GIN (tags)`,
	}
	want := []string{in[1], in[3], in[0], in[2]}
	if got := projection.SlowFirst(in); !slices.Equal(got, want) {
		t.Fatalf("order %q, want %q", got, want)
	}
	if in[0] != `CREATE INDEX a ON t (x)` {
		t.Fatal("the projection's list was reordered in place")
	}
}

// A live batch on Postgres reads its streams' positions in the round trip
// that begins it and reads the generation, once it knows which generation
// to guess: the second batch takes one round trip fewer than the first. A
// rebuild then swaps in a new generation and drops the tables of the one
// guessed: the next batch begins again on the new one and applies, once.
func TestLiveBatchReadsPositionsWithTheGeneration(t *testing.T) {
	forEachDB(t, func(t *testing.T, w *world) {
		ctx := ctxT(t)
		batch := func(n int) int64 {
			t.Helper()
			before := projection.LiveSends(w.db)
			if err := w.runner.ApplyBatch(ctx, "counts", w.appendN(t, "Opened", n)); err != nil {
				t.Fatal(err)
			}
			return projection.LiveSends(w.db) - before
		}
		first, second := batch(3), batch(3)
		if w.db.Dialect == projection.Postgres && first-second != 1 {
			t.Errorf("round trips of two batches of three events: %d then %d, want one fewer the second time", first, second)
		}
		if err := w.runner.Rebuild(ctx, "counts", nil); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := w.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM counts_event_counts_g1`).Scan(&n); err == nil {
			t.Fatal("the old generation's table is still there")
		}
		batch(2)
		if events, total := w.count(t, "Opened"); events != 8 || total != 8 {
			t.Fatalf("after the swap: %d events, total %d; want 8, each once", events, total)
		}
		if st, err := w.runner.Status(ctx); err != nil || st[0].Generation != 2 {
			t.Fatalf("status after the rebuild: %+v, %v", st, err)
		}
	})
}
