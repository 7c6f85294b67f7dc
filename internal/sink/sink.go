// Package sink delivers events from the streams to where bluepoint.yaml
// says: archives (batches of events in blob storage) and webhooks. Each sink
// is a durable consumer of its own, so a slow or failing sink holds up no
// one else, and every sink records its steps in the event's trace.
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/sinkconfig"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// Config is what a Runner needs.
type Config struct {
	Broker *stream.Broker
	// Store records the sinks' trace steps.
	Store eventstore.Store
	Sinks []sinkconfig.Sink
	// Getenv reads webhook secrets. Default os.Getenv.
	Getenv func(string) string
	Logger *slog.Logger
}

// runner is one running sink.
type runner interface {
	start(ctx context.Context) error
	stop() error
}

// Runner runs every configured sink.
type Runner struct {
	cfg     Config
	runners []runner
}

// New checks the configuration (secrets present, archives reachable) and
// builds the sinks without starting them.
func New(ctx context.Context, cfg Config) (*Runner, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Runner{cfg: cfg}
	for _, s := range cfg.Sinks {
		var (
			run runner
			err error
		)
		switch s.Type {
		case sinkconfig.SinkArchive:
			run, err = newArchive(ctx, cfg, s)
		case sinkconfig.SinkWebhook:
			run, err = newWebhook(cfg, s)
		default:
			err = fmt.Errorf("unknown type %q", s.Type)
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("sink %s: %w", s.Name, err), r.close())
		}
		r.runners = append(r.runners, run)
	}
	return r, nil
}

// Start starts every sink.
func (r *Runner) Start(ctx context.Context) error {
	for _, run := range r.runners {
		if err := run.start(ctx); err != nil {
			return errors.Join(err, r.close())
		}
	}
	return nil
}

// Stop stops every sink; what they fetched and did not finish is delivered
// again after a restart.
func (r *Runner) Stop(context.Context) error { return r.close() }

func (r *Runner) close() error {
	var errs []error
	for _, run := range r.runners {
		errs = append(errs, run.stop())
	}
	return errors.Join(errs...)
}

// wants reports whether a sink takes events of type typ.
func wants(s sinkconfig.Sink, typ string) bool {
	return len(s.Types) == 0 || slices.Contains(s.Types, typ)
}

// trace records steps, logging (not failing) when the store refuses: a
// missing trace step must not stop delivery.
func trace(ctx context.Context, cfg Config, steps []eventstore.TraceStep) {
	if len(steps) == 0 {
		return
	}
	if err := cfg.Store.RecordTraceSteps(ctx, steps); err != nil && ctx.Err() == nil {
		cfg.Logger.Warn("sink: record trace steps", "err", err)
	}
}
