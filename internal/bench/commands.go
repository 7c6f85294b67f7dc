package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"time"

	"github.com/bluepoint/bluepoint/internal/config"
)

// runCommands is workloads 1, 2 and 5 on one server: the command mix at
// each concurrency against the raw baseline, then lag at fractions of the
// best throughput, with the server's memory idle and after the load.
func (r *runner) runCommands(ctx context.Context, rep *Report) error {
	cfg, staff, err := r.newStore(ctx, "load", true)
	if err != nil {
		return fmt.Errorf("prepare the store: %w", err)
	}
	r.logf("starting serve for the command workloads")
	start := r.startServe
	if r.cfg.CPUProfile != "" {
		start = r.startInProcess
	}
	p, err := start(ctx, cfg)
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = p.stop()
		}
	}()
	// Idle is a started server that has served nothing yet.
	time.Sleep(2 * time.Second)
	mem := &Memory{}
	mem.Idle, _ = p.memory()
	rep.Memory = mem
	t := &target{url: p.url, staff: staff, client: newHTTPClient(), streamPrefix: cfg.StreamPrefix}
	w, err := r.prepare(ctx, t, maxOf(r.cfg.Clients))
	if err != nil {
		return err
	}

	perKind, err := r.eventsPerKind(ctx, cfg, w)
	if err != nil {
		return fmt.Errorf("count the events of each command: %w", err)
	}
	r.logf("events per command: %v", perKind)
	raw, err := r.newRaw(ctx, perKind)
	if err != nil {
		return fmt.Errorf("raw baseline: %w", err)
	}
	defer raw.close()

	stopProfile, err := r.startProfile()
	if err != nil {
		return err
	}
	err = r.commandLevels(ctx, rep, w, raw, p)
	if err := errors.Join(err, stopProfile()); err != nil {
		return err
	}
	_, mem.Load = p.memory()
	if err := r.settle(ctx, w); err != nil {
		return err
	}
	if err := r.lagLevels(ctx, rep, w); err != nil {
		return err
	}
	stopped = true
	return p.stop()
}

// roundResult is what one timed round did.
type roundResult struct {
	ops     int
	elapsed time.Duration
	byKind  map[string][]time.Duration
	errors  int
	err     error // the first error
}

func (rr roundResult) rate() float64 { return float64(rr.ops) / rr.elapsed.Seconds() }

// op runs one operation of client i and returns its kind and duration.
type op func(ctx context.Context, i int) (string, time.Duration, error)

// round runs n clients in closed loops for d.
func round(ctx context.Context, n int, d time.Duration, do op) roundResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		res = roundResult{byKind: map[string][]time.Duration{}}
	)
	began := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := map[string][]time.Duration{}
			var ops, errs int
			var first error
			// The end of the round stops new commands but lets the one in
			// flight finish (the elapsed time includes it): a cancelled
			// request measures nothing, and a command cut short between
			// its commit and its answer would skew the client's balance.
			for ctx.Err() == nil {
				kind, took, err := do(context.WithoutCancel(ctx), i)
				if err != nil {
					errs++
					if first == nil {
						first = fmt.Errorf("%s: %w", kind, err)
					}
					continue
				}
				ops++
				local[kind] = append(local[kind], took)
			}
			mu.Lock()
			defer mu.Unlock()
			res.ops += ops
			res.errors += errs
			if res.err == nil {
				res.err = first
			}
			for k, v := range local {
				res.byKind[k] = append(res.byKind[k], v...)
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(began)
	return res
}

// commandLevels runs workload 1: at each concurrency, Pairs rounds of raw
// SQL and Bluepoint interleaved (raw first), and the medians.
func (r *runner) commandLevels(ctx context.Context, rep *Report, w *world, raw *rawStore, server *process) error {
	bluepoint := func(ctx context.Context, i int) (string, time.Duration, error) { return w.do(ctx, w.clients[i]) }
	warm := min(time.Second, r.cfg.Duration)
	r.logf("warming up for %s", warm)
	round(ctx, maxOf(r.cfg.Clients), warm, bluepoint)
	for _, n := range r.cfg.Clients {
		level := CommandLevel{Clients: n, ByKind: map[string]Latency{}}
		var thr, rawThr, ratios, cpuServer, cpuMachine, cpuRaw []float64
		all := map[string][]time.Duration{}
		var merged []time.Duration
		for pair := range r.cfg.Pairs {
			var rd Round
			if raw != nil {
				before := sampleCPU(nil)
				rr := round(ctx, n, r.cfg.Duration, raw.op)
				if rr.err != nil {
					return fmt.Errorf("raw baseline at %d clients: %w", n, rr.err)
				}
				rd.Raw = rr.rate()
				rawThr = append(rawThr, rd.Raw)
				_, rd.CPU.RawMachine = perCommand(before, sampleCPU(nil), rr.ops)
				cpuRaw = append(cpuRaw, rd.CPU.RawMachine)
			}
			before := sampleCPU(server)
			br := round(ctx, n, r.cfg.Duration, bluepoint)
			settle(ctx, server, 3*time.Second)
			rd.CPU.Server, rd.CPU.Machine = perCommand(before, sampleCPU(server), br.ops)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if br.err != nil {
				r.logf("%d errors at %d clients, the first: %v", br.errors, n, br.err)
			}
			if br.ops == 0 {
				return fmt.Errorf("no command succeeded at %d clients: %w", n, errors.Join(br.err))
			}
			rd.Bluepoint, rd.Commands = br.rate(), br.ops
			level.Errors += br.errors
			thr = append(thr, rd.Bluepoint)
			cpuServer, cpuMachine = append(cpuServer, rd.CPU.Server), append(cpuMachine, rd.CPU.Machine)
			if rd.Raw > 0 {
				rd.Ratio = rd.Bluepoint / rd.Raw
				ratios = append(ratios, rd.Ratio)
			}
			level.Rounds = append(level.Rounds, rd)
			for k, v := range br.byKind {
				all[k] = append(all[k], v...)
				merged = append(merged, v...)
			}
			r.logf("commands, %d clients, pair %d/%d: raw %.0f txn/s, bluepoint %.0f commands/s; cpu ms per command %.2f serve, %.2f machine (raw %.2f)",
				n, pair+1, r.cfg.Pairs, rd.Raw, rd.Bluepoint, rd.CPU.Server, rd.CPU.Machine, rd.CPU.RawMachine)
		}
		level.Throughput, level.RawThroughput, level.Ratio = median(thr), median(rawThr), median(ratios)
		level.CPU = CPU{Server: median(cpuServer), Machine: median(cpuMachine), RawMachine: median(cpuRaw)}
		lat := summarize(merged)
		level.P50, level.P99 = lat.P50, lat.P99
		for k, v := range all {
			level.ByKind[k] = summarize(v)
		}
		rep.Commands = append(rep.Commands, level)
	}
	return nil
}

// eventsPerKind runs one command of each kind with the probe's accounts
// and counts the events each appended, so the raw baseline writes as many.
func (r *runner) eventsPerKind(ctx context.Context, cfg config.Config, w *world) (map[string]int, error) {
	counts := map[string]int{}
	before, err := countEvents(ctx, cfg)
	if err != nil {
		return nil, err
	}
	for _, kind := range []string{kindInteraction, kindDonation, kindRedemption, kindSignUp} {
		if _, _, err := w.run(ctx, w.probe, kind); err != nil {
			return nil, err
		}
		after, err := countEvents(ctx, cfg)
		if err != nil {
			return nil, err
		}
		counts[kind] = int(after - before)
		before = after
	}
	return counts, nil
}

// startProfile starts the CPU profile of workload 1, if one was asked for.
func (r *runner) startProfile() (stop func() error, err error) {
	if r.cfg.CPUProfile == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(r.cfg.CPUProfile)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	// The server waits more than it computes (fsync, locks, the single
	// SQLite writer): a block profile shows where, and an execution trace
	// shows the waits a block profile misses (network, syscalls, a core).
	runtime.SetBlockProfileRate(int(100 * time.Microsecond))
	tf, err := os.Create(r.cfg.CPUProfile + ".trace")
	if err != nil {
		pprof.StopCPUProfile()
		return nil, errors.Join(err, f.Close())
	}
	if err := trace.Start(tf); err != nil {
		pprof.StopCPUProfile()
		return nil, errors.Join(err, f.Close(), tf.Close())
	}
	return func() error {
		pprof.StopCPUProfile()
		trace.Stop()
		runtime.SetBlockProfileRate(0)
		err := errors.Join(f.Close(), tf.Close())
		bf, berr := os.Create(r.cfg.CPUProfile + ".block")
		if berr != nil {
			return errors.Join(err, berr)
		}
		return errors.Join(err, pprof.Lookup("block").WriteTo(bf, 0), bf.Close())
	}, nil
}
