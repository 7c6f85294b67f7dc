// Package bench measures Bluepoint end to end, the way an operator runs it:
// a real `serve` process driven over HTTP, side by side with raw SQL doing
// the same writes on the same engine in the same run. Only same-run ratios
// hold on a noisy machine, so every throughput figure comes with its
// baseline, and raw and Bluepoint rounds are interleaved.
//
// The server runs as a child process of the same binary (Config.Command), so
// its resident memory can be read from /proc without the load generator's
// own memory in it.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// Config shapes a run. Zero fields take the defaults WithDefaults states.
type Config struct {
	// Duration is how long each measured round of commands lasts (and each
	// lag level). Default 5s.
	Duration time.Duration
	// Clients are the concurrency levels of workload 1. Default 1, 4, 16.
	Clients []int
	// Pairs is how many interleaved raw/Bluepoint rounds run per level; the
	// report takes the median ratio. Default 3.
	Pairs int
	// Mix is the share of each command kind in workload 1. Default 50%
	// interactions, 30% donations, 10% redemptions, 10% sign-ups.
	Mix Mix
	// LagLoads are the fractions of workload 1's best throughput at which
	// commit-to-read-model lag is measured. Default 0.25, 0.5, 0.8.
	LagLoads []float64
	// Sizes are the event counts of the generated data sets of workloads 3
	// and 4. Default 1,000,000: the smaller of the two sizes the workloads
	// are specified on (10,000,000 takes the better part of an hour).
	Sizes []int
	// ColdStartEvents is the size of the store cold start is measured on
	// besides an empty one (0: the largest of Sizes).
	ColdStartEvents int
	// QueryRuns is how many times each event-log query runs. Default 500.
	QueryRuns int
	// HashConcurrency is the started server's password hashes at once
	// (serve's --hash-concurrency); 0: serve's default, half the CPUs.
	HashConcurrency int

	// DatabaseURL selects Postgres (with NATSURL) instead of the embedded
	// default. Every schema, role and stream the run creates is fresh and
	// dropped at the end.
	DatabaseURL string
	// NATSURL is the external NATS JetStream server used with DatabaseURL.
	NATSURL string
	// URL targets a running server instead of starting one: only the
	// workloads that need nothing but HTTP run (1 without its baseline, 2).
	URL string
	// StaffEmail and StaffPassword sign in to the server at URL as staff.
	StaffEmail, StaffPassword string

	// CPUProfile, when set, runs workload 1's server in this process
	// instead of a child and writes a CPU profile of the rounds there, and
	// a block profile to CPUProfile+".block" and an execution trace (go tool
	// trace) to CPUProfile+".trace". The memory figures of that
	// server are then not measured.
	CPUProfile string

	// Command builds the command that runs this binary with args (for
	// example "serve ..."); default: os.Executable.
	Command func(ctx context.Context, args ...string) *exec.Cmd
	// TempDir holds the data directories; default a new directory under
	// os.TempDir, removed at the end.
	TempDir string
	// Progress receives a line per step while the run goes on; nil: none.
	Progress io.Writer
}

// Mix is the percentage of each command kind; they add up to 100.
type Mix struct {
	Interactions int `json:"interactions"`
	Donations    int `json:"donations"`
	Redemptions  int `json:"redemptions"`
	SignUps      int `json:"sign_ups"`
}

// DefaultMix is the mix of workload 1.
var DefaultMix = Mix{Interactions: 50, Donations: 30, Redemptions: 10, SignUps: 10}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	if len(c.Clients) == 0 {
		c.Clients = []int{1, 4, 16}
	}
	if c.Pairs <= 0 {
		c.Pairs = 3
	}
	if c.Mix == (Mix{}) {
		c.Mix = DefaultMix
	}
	if len(c.LagLoads) == 0 {
		c.LagLoads = []float64{0.25, 0.5, 0.8}
	}
	if len(c.Sizes) == 0 {
		c.Sizes = []int{1_000_000}
	}
	if c.ColdStartEvents <= 0 {
		c.ColdStartEvents = max(0, c.Sizes[len(c.Sizes)-1])
	}
	if c.QueryRuns <= 0 {
		c.QueryRuns = 500
	}
	if c.Command == nil {
		c.Command = func(ctx context.Context, args ...string) *exec.Cmd {
			exe, err := os.Executable()
			if err != nil {
				exe = os.Args[0]
			}
			return exec.CommandContext(ctx, exe, args...)
		}
	}
	return c
}

// Validate reports what is wrong with c (after WithDefaults).
func (c Config) Validate() error {
	var errs []error
	for _, n := range c.Clients {
		if n < 1 || n > 256 {
			errs = append(errs, fmt.Errorf("clients: %d is not between 1 and 256", n))
		}
	}
	if m := c.Mix; m.Interactions < 0 || m.Donations < 0 || m.Redemptions < 0 || m.SignUps < 0 ||
		m.Interactions+m.Donations+m.Redemptions+m.SignUps != 100 {
		errs = append(errs, fmt.Errorf("mix: %+v does not add up to 100", m))
	}
	for _, f := range c.LagLoads {
		if f <= 0 || f > 1 {
			errs = append(errs, fmt.Errorf("lag loads: %v is not in (0, 1]", f))
		}
	}
	for _, n := range c.Sizes {
		if n < 1000 {
			errs = append(errs, fmt.Errorf("sizes: %d is below 1000 events", n))
		}
	}
	if (c.DatabaseURL == "") != (c.NATSURL == "") {
		errs = append(errs, errors.New("the Postgres backend needs both a database URL and a NATS URL"))
	}
	if c.URL != "" && (c.StaffEmail == "" || c.StaffPassword == "") {
		errs = append(errs, errors.New("a run against a server URL needs staff credentials"))
	}
	if c.HashConcurrency < 0 {
		errs = append(errs, fmt.Errorf("hash concurrency: %d is negative", c.HashConcurrency))
	}
	if c.HashConcurrency > 0 && c.URL != "" {
		errs = append(errs, errors.New("hash concurrency is set by the server at the URL, not by the benchmark"))
	}
	return errors.Join(errs...)
}

// Run runs every workload and returns the report. A workload that fails
// stops the run: figures from a half-working system would mislead.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, progress: cfg.Progress}
	if r.progress == nil {
		r.progress = io.Discard
	}
	if cfg.TempDir == "" {
		dir, err := os.MkdirTemp("", "bluepoint-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		r.cfg.TempDir = dir
	}
	rep := &Report{Backend: r.backendName(), Started: time.Now().UTC(), Cores: runtime.NumCPU(),
		GoVersion: runtime.Version(), Duration: cfg.Duration.String(), Pairs: cfg.Pairs, Mix: cfg.Mix,
		HashConcurrency: cfg.HashConcurrency}
	defer r.cleanup()
	err := r.run(ctx, rep)
	rep.Elapsed = time.Since(rep.Started).Round(time.Millisecond).String()
	return rep, err
}

// runner carries one run's state.
type runner struct {
	cfg      Config
	progress io.Writer
	cleanups []func()
	seq      int
}

func (r *runner) backendName() string {
	switch {
	case r.cfg.URL != "":
		return "url"
	case r.cfg.DatabaseURL != "":
		return "postgres"
	default:
		return "embedded"
	}
}

// logf reports progress on its own line.
func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.progress, "bench: "+format+"\n", args...)
}

// cleanup undoes what the run created, newest first.
func (r *runner) cleanup() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func (r *runner) run(ctx context.Context, rep *Report) error {
	if r.cfg.URL != "" {
		return r.runRemote(ctx, rep)
	}
	// Cold start on an empty store first: nothing is cached yet.
	r.logf("cold start on an empty store")
	empty, err := r.coldStart(ctx, 0, nil)
	if err != nil {
		return fmt.Errorf("cold start: %w", err)
	}
	rep.ColdStart = append(rep.ColdStart, empty)

	if err := r.runCommands(ctx, rep); err != nil {
		return err
	}
	if err := r.runDataSets(ctx, rep); err != nil {
		return err
	}
	return nil
}

// runRemote runs what needs nothing but HTTP against cfg.URL.
func (r *runner) runRemote(ctx context.Context, rep *Report) error {
	t := &target{url: r.cfg.URL, staff: login{Email: r.cfg.StaffEmail, Password: r.cfg.StaffPassword}, client: newHTTPClient()}
	w, err := r.prepare(ctx, t, maxOf(r.cfg.Clients))
	if err != nil {
		return err
	}
	if err := r.commandLevels(ctx, rep, w, nil, nil); err != nil {
		return err
	}
	return r.lagLevels(ctx, rep, w)
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
