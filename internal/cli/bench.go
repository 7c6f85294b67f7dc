package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/bluepoint/bluepoint/internal/bench"
)

// benchCmd measures this binary end to end. Its storage flags are not
// bound to the BLUEPOINT_ variables serve reads: a shell set up to run a
// real deployment must not point a load test at it by accident (the bench
// only ever creates and drops schemas of its own, but it loads the server).
type benchCmd struct {
	Duration        time.Duration `name:"duration" default:"5s" placeholder:"DURATION" help:"Length of each measured round (and of each lag level). Default: ${default}."`
	Clients         []int         `name:"clients" default:"1,4,16" sep:"," placeholder:"N,..." help:"Concurrent clients of the command workload. Default: ${default}."`
	Pairs           int           `name:"pairs" default:"3" placeholder:"N" help:"Interleaved raw-SQL/Bluepoint round pairs per level; the median ratio is reported. Default: ${default}."`
	Mix             []int         `name:"mix" default:"50,30,10,10" sep:"," placeholder:"I,D,R,S" help:"Percent of interactions, donations, redemptions and sign-ups. Default: ${default}."`
	LagLoads        []float64     `name:"lag-loads" default:"0.25,0.5,0.8" sep:"," placeholder:"F,..." help:"Fractions of the best command throughput at which read-model lag is measured. Default: ${default}."`
	Sizes           []int         `name:"sizes" default:"1000000" sep:"," placeholder:"N,..." help:"Events in the generated data sets (event-log queries, rebuilds). Default: ${default}."`
	ColdStartEvents int           `name:"cold-start-events" placeholder:"N" help:"Events in the store a second cold start is measured on. Default: the largest of --sizes."`
	QueryRuns       int           `name:"query-runs" default:"500" placeholder:"N" help:"Runs of each event-log query. Default: ${default}."`
	HashConcurrency int           `name:"hash-concurrency" placeholder:"N" help:"Password hashes the started server runs at once (its --hash-concurrency). Default: the server's own default."`
	DatabaseURL     string        `name:"database-url" placeholder:"URL" help:"postgres:// URL: benchmark on Postgres (with --nats-url) in fresh schemas, roles and streams, dropped afterwards. Default: the embedded default."`
	NATSURL         string        `name:"nats-url" placeholder:"URL" help:"nats:// URL of the NATS JetStream server used with --database-url."`
	URL             string        `name:"url" placeholder:"URL" help:"Drive a running server instead of starting one (command and lag workloads only; needs --staff-email and --staff-password)."`
	StaffEmail      string        `name:"staff-email" placeholder:"EMAIL" help:"Staff account of the server at --url."`
	StaffPassword   string        `name:"staff-password" env:"BLUEPOINT_STAFF_PASSWORD" placeholder:"PASSWORD" help:"Its password; prefer the variable."`
	Out             string        `name:"out" placeholder:"FILE" help:"Also write the report as JSON to FILE."`
	CPUProfile      string        `name:"cpuprofile" placeholder:"FILE" help:"Run the command workload's server in this process and write a CPU profile of its rounds to FILE, a block profile to FILE.block and an execution trace to FILE.trace (no memory figures then)."`
	Quick           bool          `name:"quick" help:"Everything small, in well under a minute: rounds of 1s, one pair, 10,000-event data sets, 100 query runs."`
}

// Run runs the benchmark with progress on Stderr, prints the tables on
// Stdout and writes the JSON report. A failed run still writes what it
// measured, marked by the error.
func (c *benchCmd) Run(ctx context.Context, p *Program) error {
	cfg, err := c.config()
	if err != nil {
		return &usageError{err: err}
	}
	cfg.Progress = p.Stderr
	rep, runErr := bench.Run(ctx, cfg)
	if rep == nil {
		return fmt.Errorf("bench: %w", runErr)
	}
	if err := rep.WriteTable(p.Stdout); err != nil {
		return err
	}
	if c.Out != "" {
		if err := writeReport(c.Out, rep); err != nil {
			return errors.Join(runErr, err)
		}
	}
	if runErr != nil {
		return fmt.Errorf("bench: %w", runErr)
	}
	return nil
}

// config turns the flags into a bench.Config.
func (c *benchCmd) config() (bench.Config, error) {
	if len(c.Mix) != 4 {
		return bench.Config{}, fmt.Errorf("--mix: want 4 percentages (interactions, donations, redemptions, sign-ups), got %d", len(c.Mix))
	}
	cfg := bench.Config{
		Duration: c.Duration, Clients: c.Clients, Pairs: c.Pairs, LagLoads: c.LagLoads,
		Mix:   bench.Mix{Interactions: c.Mix[0], Donations: c.Mix[1], Redemptions: c.Mix[2], SignUps: c.Mix[3]},
		Sizes: c.Sizes, ColdStartEvents: c.ColdStartEvents, QueryRuns: c.QueryRuns, HashConcurrency: c.HashConcurrency,
		DatabaseURL: c.DatabaseURL, NATSURL: c.NATSURL,
		CPUProfile: c.CPUProfile,
		URL:        c.URL, StaffEmail: c.StaffEmail, StaffPassword: c.StaffPassword,
	}
	if c.Quick {
		cfg.Duration, cfg.Pairs, cfg.Sizes, cfg.QueryRuns = time.Second, 1, []int{10_000}, 100
	}
	cfg = cfg.WithDefaults()
	return cfg, cfg.Validate()
}

// writeReport writes rep as JSON to path.
func writeReport(path string, rep *bench.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
