package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
)

// registerMetrics adds what an operator of an event-sourced service
// watches besides the HTTP requests: how the store's group commit groups
// its writes, and how far each projection is behind.
func (a *App) registerMetrics(reg *prometheus.Registry) {
	if gc, ok := a.store.(eventstore.GroupCommitter); ok {
		counter := func(name, help string, v func(eventstore.GroupStats) int64) prometheus.Collector {
			return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
				func() float64 { return float64(v(gc.GroupStats())) })
		}
		reg.MustRegister(
			counter("bluepoint_store_groups_total", "Groups of writes the event store committed together (a lone write is a group of one).",
				func(s eventstore.GroupStats) int64 { return s.Groups }),
			counter("bluepoint_store_group_writes_total", "Writes in those groups; divided by the groups, the mean group.",
				func(s eventstore.GroupStats) int64 { return s.Writes }),
			counter("bluepoint_store_group_fallbacks_total", "Groups that failed before their commit and ran their appends one by one.",
				func(s eventstore.GroupStats) int64 { return s.Fallbacks }),
		)
	}
	if a.projections != nil {
		reg.MustRegister(projectionLag{runner: a.projections, logger: a.logger})
	}
}

var projectionLagDesc = prometheus.NewDesc("bluepoint_projection_lag_events",
	"Events a projection's consumers have not finished: yet to apply, or applied and waiting to be acknowledged.",
	[]string{"projection"}, nil)

// projectionLag asks the stream engine for each projection's lag at every
// scrape.
type projectionLag struct {
	runner *projection.Runner
	logger *slog.Logger
}

func (c projectionLag) Describe(ch chan<- *prometheus.Desc) { ch <- projectionLagDesc }

func (c projectionLag) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lag, err := c.runner.Lag(ctx)
	if err != nil {
		// A scrape without the lag beats a failed scrape without the rest.
		c.logger.Warn("metrics: projection lag", "err", err)
		return
	}
	for name, n := range lag {
		ch <- prometheus.MustNewConstMetric(projectionLagDesc, prometheus.GaugeValue, float64(n), name)
	}
}
