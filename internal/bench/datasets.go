package bench

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bluepoint/bluepoint/internal/config"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/readmodel/eventlog"
)

// rebuildProjections are the read models workload 4 rebuilds, by name.
var rebuildProjections = []string{"users", "features", "eventlog"}

// runDataSets runs workloads 3 and 4 on each size, and cold start (6) on
// the store of ColdStartEvents events (or the nearest larger size).
func (r *runner) runDataSets(ctx context.Context, rep *Report) error {
	coldDone := false
	for _, n := range r.cfg.Sizes {
		qs, err := r.queryDataSet(ctx, n)
		if err != nil {
			return fmt.Errorf("event log on %d events: %w", n, err)
		}
		rep.EventLog = append(rep.EventLog, qs)

		rs, cfg, err := r.rebuildDataSet(ctx, n)
		if err != nil {
			return fmt.Errorf("rebuild on %d events: %w", n, err)
		}
		rep.Rebuild = append(rep.Rebuild, rs)
		if rep.Memory != nil {
			rep.Memory.Rebuild = max(rep.Memory.Rebuild, rs.PeakRSS)
		}
		if !coldDone && n >= r.cfg.ColdStartEvents {
			r.logf("cold start on %d events", n)
			cs, err := r.coldStart(ctx, n, &cfg)
			if err != nil {
				return fmt.Errorf("cold start on %d events: %w", n, err)
			}
			rep.ColdStart = append(rep.ColdStart, cs)
			coldDone = true
		}
	}
	return nil
}

// coldStart starts serve on cfg (nil: a new empty store), times it to
// /readyz and reads its resident set two seconds later.
func (r *runner) coldStart(ctx context.Context, events int, cfg *config.Config) (ColdStart, error) {
	if cfg == nil {
		c, _, err := r.newStore(ctx, "empty", false)
		if err != nil {
			return ColdStart{}, err
		}
		cfg = &c
	}
	p, err := r.startServe(ctx, *cfg)
	if err != nil {
		return ColdStart{}, err
	}
	time.Sleep(2 * time.Second)
	rss, _ := p.memory()
	cs := ColdStart{Events: events, Ms: ms(p.Ready), RSS: rss}
	r.logf("cold start on %d events: ready in %s, %.1f MB", events, p.Ready.Round(time.Millisecond), rss)
	return cs, p.stop()
}

// queryDataSet runs workload 3: eventlog.Generate fills a fresh read
// database with n entries, then each query runs QueryRuns times in this
// process (no HTTP), on customers and ranges that hold entries.
func (r *runner) queryDataSet(ctx context.Context, n int) (QuerySet, error) {
	cfg, _, err := r.newStore(ctx, "eventlog", false)
	if err != nil {
		return QuerySet{}, err
	}
	db, err := openRead(ctx, cfg)
	if err != nil {
		return QuerySet{}, err
	}
	defer db.Close()
	if _, err := projection.New(ctx, projection.Config{DB: db, Projections: []projection.Projection{eventlog.New()}}); err != nil {
		return QuerySet{}, err
	}
	began := time.Now()
	next := 0
	if err := eventlog.Generate(ctx, db, n, 42, func(done int) {
		if 10*done/n >= next {
			r.logf("event log: generated %d/%d entries", done, n)
			next = 10*done/n + 1
		}
	}); err != nil {
		return QuerySet{}, err
	}
	qs := QuerySet{Events: n, LoadSeconds: time.Since(began).Seconds()}
	probes, err := queryProbes(ctx, db)
	if err != nil {
		return QuerySet{}, err
	}
	runs := r.cfg.QueryRuns
	for _, q := range eventLogQueries {
		count := runs
		if q.heavy {
			count = max(3, runs/50)
		}
		lat := make([]time.Duration, 0, count)
		for i := range count {
			p := probes[i%len(probes)]
			t0 := time.Now()
			if err := q.run(ctx, db, p); err != nil {
				return QuerySet{}, fmt.Errorf("%s: %w", q.name, err)
			}
			lat = append(lat, time.Since(t0))
		}
		qs.Queries = append(qs.Queries, QueryLatency{Name: q.name, Latency: summarize(lat)})
		r.logf("event log on %d: %s p50 %.2f ms", n, q.name, qs.Queries[len(qs.Queries)-1].P50)
	}
	return qs, nil
}

// openRead opens cfg's read database as its owner.
func openRead(ctx context.Context, cfg config.Config) (*projection.DB, error) {
	if cfg.UsesSQLite() {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, err
		}
		return projection.OpenSQLite(cfg.ReadModelsPath())
	}
	return projection.OpenPostgres(ctx, cfg.DatabaseURL, postgres.ReadSchema(cfg.DatabaseSchema), "")
}

// queryProbe is a customer with an entry, and a 30-day range around it.
type queryProbe struct {
	customer string
	from     time.Time
}

func queryProbes(ctx context.Context, db *projection.DB) ([]queryProbe, error) {
	rows, err := db.Read.QueryContext(ctx, `SELECT customer_id, occurred_at FROM event_log WHERE type = 'PointsCredited' LIMIT 1000`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []queryProbe
	for rows.Next() {
		var p queryProbe
		var at int64
		if err := rows.Scan(&p.customer, &at); err != nil {
			return nil, err
		}
		p.from = time.UnixMicro(at).AddDate(0, 0, -15)
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the generated log has no PointsCredited entry")
	}
	return out, rows.Err()
}

// eventLogQueries are the reads the event-log API serves. heavy ones scan
// the whole data set and run fewer times.
var eventLogQueries = []struct {
	name  string
	heavy bool
	run   func(ctx context.Context, db *projection.DB, p queryProbe) error
}{
	{name: "customer page", run: func(ctx context.Context, db *projection.DB, p queryProbe) error {
		_, _, err := eventlog.List(ctx, db, eventlog.Filter{CustomerID: p.customer}, 50, "")
		return err
	}},
	{name: "customer, 2 types, 30 days", run: func(ctx context.Context, db *projection.DB, p queryProbe) error {
		_, _, err := eventlog.List(ctx, db, eventlog.Filter{CustomerID: p.customer, Types: []string{"PointsCredited", "DonationMade"},
			From: p.from, To: p.from.AddDate(0, 0, 30)}, 50, "")
		return err
	}},
	{name: "type, 30 days", run: func(ctx context.Context, db *projection.DB, p queryProbe) error {
		_, _, err := eventlog.List(ctx, db, eventlog.Filter{Types: []string{"DonationMade"}, From: p.from, To: p.from.AddDate(0, 0, 30)}, 50, "")
		return err
	}},
	{name: "full text", run: func(ctx context.Context, db *projection.DB, _ queryProbe) error {
		_, _, err := eventlog.List(ctx, db, eventlog.Filter{Q: "missing voucher"}, 50, "")
		return err
	}},
	{name: "customer frequency per week", run: func(ctx context.Context, db *projection.DB, p queryProbe) error {
		_, err := eventlog.CustomerFrequency(ctx, db, p.customer, "week")
		return err
	}},
	{name: "top types, 30 days", heavy: true, run: func(ctx context.Context, db *projection.DB, p queryProbe) error {
		_, err := eventlog.TopTypes(ctx, db, p.from, p.from.AddDate(0, 0, 30), 10)
		return err
	}},
	{name: "time series per day, 30 days", heavy: true, run: func(ctx context.Context, db *projection.DB, p queryProbe) error {
		_, err := eventlog.TimeSeries(ctx, db, "PointsCredited", "day", p.from, p.from.AddDate(0, 0, 30))
		return err
	}},
	{name: "account lifetime", heavy: true, run: func(ctx context.Context, db *projection.DB, _ queryProbe) error {
		_, err := eventlog.AccountLifetime(ctx, db)
		return err
	}},
}

// rebuildDataSet runs workload 4: n generated events in a fresh event
// store, then `bluepoint replay` of each read model as a child process,
// timed, with its peak resident set. The store it leaves (read models
// rebuilt, outbox sent) is what a server restarting on n events finds.
func (r *runner) rebuildDataSet(ctx context.Context, n int) (RebuildSet, config.Config, error) {
	cfg, _, err := r.newStore(ctx, "rebuild", false)
	if err != nil {
		return RebuildSet{}, cfg, err
	}
	began := time.Now()
	if err := r.generateEvents(ctx, cfg, n); err != nil {
		return RebuildSet{}, cfg, err
	}
	rs := RebuildSet{Events: n, LoadSeconds: time.Since(began).Seconds()}
	for _, name := range rebuildProjections {
		t0 := time.Now()
		p, err := r.spawn(ctx, "replay", append([]string{"replay", "--projection", name}, configArgs(cfg)...)...)
		if err != nil {
			return rs, cfg, err
		}
		if err := p.wait(ctx); err != nil {
			return rs, cfg, fmt.Errorf("replay %s: %w", name, err)
		}
		took := time.Since(t0)
		rs.Projections = append(rs.Projections, RebuildLatency{Name: name, Seconds: took.Seconds(), EventsPerSec: float64(n) / took.Seconds()})
		rs.PeakRSS = max(rs.PeakRSS, p.peakRSS())
		r.logf("rebuild %s on %d events: %s (%.0f events/s), peak RSS %.1f MB", name, n, took.Round(time.Millisecond),
			float64(n)/took.Seconds(), p.peakRSS())
	}
	return rs, cfg, nil
}
