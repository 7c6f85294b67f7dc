package bench

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// probeEvery is how often the lag probe makes a transaction, and
// probeTimeout how long it waits for one to show.
const (
	probeEvery   = 100 * time.Millisecond
	probeTimeout = time.Minute
)

// lagLevels runs workload 2: at each fraction of workload 1's best
// throughput, an open-loop load of the same mix, and a probe that makes an
// interaction and polls the civilian's event log (the read model, over
// HTTP) until it shows, timing commit (the 201) to visible.
func (r *runner) lagLevels(ctx context.Context, rep *Report, w *world) error {
	best := 0.0
	for _, l := range rep.Commands {
		best = max(best, l.Throughput)
	}
	if best == 0 {
		return fmt.Errorf("lag: workload 1 measured no throughput")
	}
	for _, f := range r.cfg.LagLoads {
		rate := f * best
		r.logf("lag at %.0f%% load (%.0f commands/s)", 100*f, rate)
		level, err := r.lagAt(ctx, w, rate)
		if err != nil {
			return fmt.Errorf("lag at %.0f%%: %w", 100*f, err)
		}
		level.Fraction = f
		rep.Lag = append(rep.Lag, level)
	}
	return nil
}

// lagAt offers rate commands per second for the configured duration.
func (r *runner) lagAt(ctx context.Context, w *world, rate float64) (LagLevel, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Duration)
	defer cancel()
	// Tickets are offered at the rate; a ticket no client is free to take
	// is dropped, so a saturated server shows as achieved < offered.
	tickets := make(chan struct{}, len(w.clients))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for _, c := range w.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tickets:
				}
				if _, _, err := w.do(ctx, c); err == nil && ctx.Err() == nil {
					mu.Lock()
					done++
					mu.Unlock()
				}
			}
		}()
	}
	var (
		lags    []time.Duration
		probeMu sync.Mutex
		probeWG sync.WaitGroup
		failure error
	)
	probeWG.Add(1)
	go func() {
		defer probeWG.Done()
		tick := time.NewTicker(probeEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			// A probe started in the round finishes after it: cutting it
			// off would hide exactly the lags that are long.
			lag, err := w.probeLag(context.WithoutCancel(ctx))
			probeMu.Lock()
			if err != nil && failure == nil {
				failure = err
			} else if err == nil {
				lags = append(lags, lag)
			}
			probeMu.Unlock()
		}
	}()
	began := time.Now()
	sent := 0
	pace := time.NewTicker(time.Millisecond)
	defer pace.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-pace.C:
		}
		due := int(time.Since(began).Seconds()*rate) - sent
		for ; due > 0; due-- {
			sent++
			select {
			case tickets <- struct{}{}:
			default:
			}
		}
	}
	wg.Wait()
	probeWG.Wait()
	elapsed := time.Since(began)
	level := LagLevel{Offered: rate, Achieved: float64(done) / elapsed.Seconds(), Latency: summarize(lags)}
	if failure != nil {
		// The other workloads still deserve their figures: report a level
		// with fewer (or no) probes rather than stop the run.
		r.logf("lag probe failed: %v", failure)
	}
	return level, nil
}

// probeLag makes one interaction for the probe's civilian and waits until
// the civilian's event log shows a newer entry than before.
func (w *world) probeLag(ctx context.Context) (time.Duration, error) {
	c, t := w.probe, w.t
	top := func() (string, error) {
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		err := t.call(ctx, http.MethodGet, "/v1/events?limit=1&customer_id="+c.civilian.ID, c.civToken, nil, &page)
		if err != nil || len(page.Items) == 0 {
			return "", err
		}
		return page.Items[0].ID, nil
	}
	before, err := top()
	if err != nil {
		return 0, err
	}
	if _, _, err := w.run(ctx, c, kindInteraction); err != nil {
		return 0, err
	}
	committed := time.Now()
	deadline := committed.Add(probeTimeout)
	for time.Now().Before(deadline) {
		now, err := top()
		if err != nil {
			return 0, err
		}
		if now != before {
			return time.Since(committed), nil
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("the interaction did not show in the event log within %s", probeTimeout)
}

// settle waits until every consumer of the server's streams has caught up, so lag
// is measured at the offered load and not on workload 1's backlog.
func (r *runner) settle(ctx context.Context, w *world) error {
	began := time.Now()
	deadline := began.Add(5 * time.Minute)
	for calm := 0; calm < 2; {
		var rep struct {
			Consumers []struct {
				Stream     string `json:"stream"`
				Pending    uint64 `json:"pending"`
				AckPending int    `json:"ack_pending"`
			} `json:"consumers"`
		}
		if err := w.t.call(ctx, http.MethodGet, "/v1/streams", w.staffToken, nil, &rep); err != nil {
			return fmt.Errorf("settle: %w", err)
		}
		behind := uint64(0)
		for _, c := range rep.Consumers {
			// The report lists every stream of the NATS server, other
			// deployments' too.
			if strings.HasPrefix(c.Stream, w.t.streamPrefix) {
				behind += c.Pending + uint64(c.AckPending)
			}
		}
		if behind == 0 {
			calm++
		} else {
			calm = 0
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("settle: consumers still %d messages behind after %s", behind, time.Since(began).Round(time.Second))
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.logf("consumers caught up in %s", time.Since(began).Round(time.Millisecond))
	return nil
}
