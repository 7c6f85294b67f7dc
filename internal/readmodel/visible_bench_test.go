package readmodel_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/bench"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/outbox"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/service/servicetest"
	"github.com/bluepoint/bluepoint/internal/stream"
	"github.com/bluepoint/bluepoint/internal/testenv"
	"github.com/bluepoint/bluepoint/internal/traceid"
)

// BenchmarkCommitToVisible measures, on Postgres and the NATS server of
// the test environment, the time from a command's commit to its row being
// visible in a read model: b.N sign-ups issued at a steady 1,000 per second
// (BLUEPOINT_BENCH_RATE for another rate) through the service, with the
// whole pipeline running as `serve` runs it (event store, outbox relay,
// JetStream, the three read models). Each command carries a trace id of its
// own, as every API request does, so the trace steps of each part are
// written as they are in production. A command counts as committed when
// the service returns; its account counts as visible when a query of the
// users read model finds it (polled every millisecond). It reports p50,
// p99 and the highest latency, the rate achieved, and how long the
// commands themselves took.
//
// BLUEPOINT_BENCH_COMMANDS=mix issues the command mix of `bluepoint
// bench`'s workload 1 instead (50% interactions, 30% donations, 10%
// redemptions, 10% sign-ups; see newMix): a transaction counts as visible
// when the users read model's transactions hold it. Its commands write
// three events each on average where a sign-up writes one, and each of
// its 63 clients runs one command at a time: a command's own latency then
// includes its wait for the client's previous command (and, for an
// interaction, the encounter token fetched first), which commit to
// visible does not.
//
// The b.N measured commands follow one second of the same load
// (BLUEPOINT_BENCH_WARMUP for another number of seconds) that is not
// measured: a fresh schema's first moments (consumers starting, tables and
// plans made, the first batches) are not the steady state the target is
// about. The log line gives the warm-up's own p99 and highest latency too.
//
//	BLUEPOINT_TEST_POSTGRES=postgres://... BLUEPOINT_TEST_NATS=nats://... \
//	    go test -run '^$' -bench CommitToVisible -benchtime 10000x ./internal/readmodel/
func BenchmarkCommitToVisible(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rate := 1000
	if v := os.Getenv("BLUEPOINT_BENCH_RATE"); v != "" {
		if _, err := fmt.Sscan(v, &rate); err != nil || rate < 1 {
			b.Fatalf("BLUEPOINT_BENCH_RATE=%q: want commands per second", v)
		}
	}
	warmup := 1.0
	if v := os.Getenv("BLUEPOINT_BENCH_WARMUP"); v != "" {
		if _, err := fmt.Sscan(v, &warmup); err != nil || warmup < 0 {
			b.Fatalf("BLUEPOINT_BENCH_WARMUP=%q: want seconds", v)
		}
	}
	warmN := int(warmup * float64(rate))
	total := warmN + b.N
	url := testenv.Postgres(b)
	natsURL := testenv.NATS(b)
	schema := storetest.NewSchema(b, url)
	if err := postgres.Migrate(ctx, postgres.MigrateParams{URL: url, Schema: schema}); err != nil {
		b.Fatal(err)
	}
	store, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	db, err := projection.OpenPostgres(ctx, url, postgres.ReadSchema(schema), postgres.DefaultAppRole)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	prefix := "b" + strings.ReplaceAll(uuid.NewString()[:8], "-", "") + "_"
	broker, err := stream.Open(ctx, stream.Config{URL: natsURL, Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		// Every stream of the prefix, not a list that a new stream would outgrow.
		_ = stream.DeletePrefixed(context.Background(), natsURL, prefix)
		broker.Close()
	}()
	relay := outbox.New(store, outbox.BrokerPublisher{Broker: broker}, outbox.Config{})
	if err := relay.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer relay.Stop(context.Background())
	runner, err := projection.New(ctx, projection.Config{DB: db, Store: store, Broker: broker, Projections: projections()})
	if err != nil {
		b.Fatal(err)
	}
	if err := runner.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer runner.Stop(context.Background())
	svc := servicetest.New(b, store, nil)
	issue, what, query := signUps(svc), "sign-ups", `SELECT id FROM accounts WHERE id = ANY($1)`
	switch v := os.Getenv("BLUEPOINT_BENCH_COMMANDS"); v {
	case "", "sign-ups":
	case "mix":
		issue, what = newMix(b, ctx, svc), "commands of the mix"
		query = `SELECT id FROM accounts WHERE id = ANY($1) UNION ALL SELECT id FROM transactions WHERE id = ANY($1)`
	default:
		b.Fatalf("BLUEPOINT_BENCH_COMMANDS=%q: want sign-ups or mix", v)
	}

	// The watcher reads as a long-running reader's cached plans would: by
	// index. A sequential scan of the young table a thousand times a
	// second would cost the Postgres that the commands share.
	wcfg, err := pgx.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	wcfg.RuntimeParams["search_path"] = postgres.ReadSchema(schema)
	wcfg.RuntimeParams["enable_seqscan"] = "off"
	wcfg.RuntimeParams["jit"] = "off"
	wconn, err := pgx.ConnectConfig(ctx, wcfg)
	if err != nil {
		b.Fatal(err)
	}
	w := &watcher{conn: wconn, query: query, committed: map[string]pending{}}
	wctx, stopWatching := context.WithCancel(ctx)
	watchDone, watchExited := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(watchExited)
		watchDone <- w.run(wctx, total)
	}()
	// A failing benchmark leaves before the watcher is done: its
	// connection closes only once the watcher no longer uses it.
	defer func() {
		stopWatching()
		<-watchExited
		wconn.Close(context.Background())
	}()

	// How busy the machine was while the commands went out: the latency of
	// a saturated machine is its queues'.
	busyBefore, busyErr := bench.MachineBusy()
	// Commands go out on a fixed schedule, each on its own goroutine, so a
	// slow one delays no other (an open-loop load, as clients make).
	b.ResetTimer()
	groupsBefore := store.GroupStats()
	began := time.Now()
	interval := time.Second / time.Duration(rate)
	var wg sync.WaitGroup
	errs := make(chan error, total)
	measured := make([]string, b.N) // the trace ids of the measured commands
	for i := range total {
		if d := time.Until(began.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d) // pacing the load, not waiting for a condition
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			call := service.Call{TraceID: traceid.String()} // as the HTTP API makes them
			if i >= warmN {
				measured[i-warmN] = call.TraceID
			}
			sent := time.Now()
			id, err := issue(ctx, i, call)
			if err != nil {
				errs <- err
				return
			}
			w.commit(id, sent, time.Now(), i >= warmN)
		}()
	}
	// Sending lags behind the schedule only when the generator itself is
	// starved of CPU.
	sendLag := time.Since(began) - time.Duration(total-1)*interval
	wg.Wait()
	issued := time.Since(began)
	busy := -1.0
	if busyAfter, err := bench.MachineBusy(); err == nil && busyErr == nil {
		busy = 100 * float64(busyAfter-busyBefore) / float64(issued) / float64(runtime.NumCPU())
	}
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	select {
	case err := <-watchDone:
		if err != nil {
			b.Fatal(err)
		}
	case <-time.After(5 * time.Minute):
		b.Fatal("not every account became visible within 5 minutes")
	}
	b.StopTimer()
	lat, cmd, warm := w.latencies, w.commands, w.warm
	slices.Sort(lat)
	slices.Sort(cmd)
	slices.Sort(warm)
	warmP99, warmMax := time.Duration(0), time.Duration(0)
	if len(warm) > 0 {
		warmP99, warmMax = warm[len(warm)*99/100], warm[len(warm)-1]
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(float64(total)/issued.Seconds(), "commands/s")
	// The rate achieved counts until the last command returns: when it falls
	// short of the rate asked, the commands' own latency says whether the
	// append path is what holds it back.
	b.ReportMetric(ms(cmd[len(cmd)*99/100]), "command-p99-ms")
	if busy >= 0 {
		b.ReportMetric(busy, "machine-busy-%")
		b.Logf("the machine was busy %.0f%% of the time the commands went out (every process, all %d cores)", busy, runtime.NumCPU())
	}
	b.Logf("%d %s after %d of warm-up, at %.0f/s (last sent %.0f ms behind schedule; command p50 %.2f ms, p99 %.2f ms): commit to visible p50 %.2f ms, p99 %.2f ms, max %.2f ms; warm-up p99 %.2f ms, max %.2f ms",
		b.N, what, warmN, float64(total)/issued.Seconds(), ms(sendLag), ms(cmd[len(cmd)/2]), ms(cmd[len(cmd)*99/100]),
		ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), ms(lat[len(lat)-1]), ms(warmP99), ms(warmMax))
	if g := store.GroupStats(); g.Groups > groupsBefore.Groups {
		groups, writes := g.Groups-groupsBefore.Groups, g.Writes-groupsBefore.Writes
		b.ReportMetric(float64(writes)/float64(groups), "appends/group")
		b.Logf("the store committed %d appends in %d groups (%.1f a group), %d groups fell back", writes, groups,
			float64(writes)/float64(groups), g.Fallbacks-groupsBefore.Fallbacks)
	}
	if legs, err := traceLegs(ctx, wconn, schema, measured); err != nil {
		b.Logf("trace legs: %v", err)
	} else {
		b.Logf("where the time went, from the trace steps (p50 / p99 ms): %s", legs)
	}
}

// traceLegs splits the measured commands' commit to visible by the trace
// steps the parts wrote: append to published by the relay, and published
// to applied by the users read model (each step stamped when its part was
// done). The warm-up's traces are left out, as its latencies are. It
// waits, within 5 seconds, until the background trace writes have caught
// up with the traces.
func traceLegs(ctx context.Context, conn *pgx.Conn, schema string, traces []string) (string, error) {
	steps := pgx.Identifier{schema, "trace_steps"}.Sanitize()
	for deadline := time.Now().Add(5 * time.Second); ; {
		var done int
		if err := conn.QueryRow(ctx, `SELECT count(DISTINCT trace_id) FROM `+steps+` WHERE trace_id = ANY($1) AND step = 'projection.users'`, traces).Scan(&done); err != nil {
			return "", err
		}
		if done >= len(traces) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the trace logs write in the background
	}
	var relay, apply []float64
	err := conn.QueryRow(ctx, `WITH t AS (
		SELECT min(at) FILTER (WHERE step LIKE 'command.%') AS appended,
			min(at) FILTER (WHERE step = 'relay') AS published,
			min(at) FILTER (WHERE step = 'projection.users') AS applied
		FROM `+steps+` WHERE trace_id = ANY($1) GROUP BY trace_id)
		SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM published - appended) * 1000),
			percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM applied - published) * 1000)
		FROM t WHERE appended IS NOT NULL AND published IS NOT NULL AND applied IS NOT NULL`, traces).Scan(&relay, &apply)
	if err != nil {
		return "", err
	}
	if len(relay) != 2 || len(apply) != 2 {
		return "", fmt.Errorf("no trace has all three steps")
	}
	return fmt.Sprintf("append to published %.1f / %.1f, published to applied %.1f / %.1f", relay[0], relay[1], apply[0], apply[1]), nil
}

// watcher polls the users read model for committed accounts and records
// how long after its commit each one showed.
type watcher struct {
	conn      *pgx.Conn
	query     string // returns which of the ids in $1 the read model holds
	mu        sync.Mutex
	committed map[string]pending // committed, not yet seen
	latencies []time.Duration    // of the measured commands
	warm      []time.Duration    // of the warm-up's
	commands  []time.Duration    // how long each measured command took
}

// pending is a committed account not yet seen.
type pending struct {
	at       time.Time
	measured bool
}

// commit records a command sent at sent that returned, committed, at at;
// measured is false during the warm-up.
func (w *watcher) commit(id string, sent, at time.Time, measured bool) {
	w.mu.Lock()
	w.committed[id] = pending{at: at, measured: measured}
	if measured {
		w.commands = append(w.commands, at.Sub(sent))
	}
	w.mu.Unlock()
}

// run polls until n accounts were seen.
func (w *watcher) run(ctx context.Context, n int) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for len(w.latencies)+len(w.warm) < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		w.mu.Lock()
		ids := make([]string, 0, len(w.committed))
		for id := range w.committed {
			ids = append(ids, id)
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		ids = ids[:min(len(ids), 5000)]
		rows, err := w.conn.Query(ctx, w.query, ids)
		if err != nil {
			return err
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		seen := time.Now()
		w.mu.Lock()
		for _, id := range found {
			p := w.committed[id]
			if p.measured {
				w.latencies = append(w.latencies, seen.Sub(p.at))
			} else {
				w.warm = append(w.warm, seen.Sub(p.at))
			}
			delete(w.committed, id)
		}
		w.mu.Unlock()
	}
	return nil
}
