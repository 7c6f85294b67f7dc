package app

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/bluepoint/bluepoint/internal/automation"
	"github.com/bluepoint/bluepoint/internal/outbox"
	"github.com/bluepoint/bluepoint/internal/sink"
	"github.com/bluepoint/bluepoint/internal/sinkconfig"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// stopper is a started component; Stop undoes its Start.
type stopper interface {
	Stop(ctx context.Context) error
}

type stopFunc func(ctx context.Context) error

func (f stopFunc) Stop(ctx context.Context) error { return f(ctx) }

// startStreams starts the stream engine (embedded or external), the outbox
// relay, and the sinks and automations of bluepoint.yaml, in that order;
// Stop stops them in reverse.
func (a *App) startStreams(ctx context.Context) error {
	var sinks *sinkconfig.File
	if a.cfg.SinksFile != "" {
		f, err := sinkconfig.Load(a.cfg.SinksFile)
		if err != nil {
			return err
		}
		if err := f.Resolve(os.Getenv); err != nil {
			return err
		}
		sinks = f
	}
	broker, err := stream.Open(ctx, stream.Config{URL: a.cfg.NATSURL, StoreDir: a.cfg.NATSStoreDir(), Listen: a.cfg.NATSListen, MaxAge: a.cfg.StreamMaxAge, Prefix: a.cfg.StreamPrefix})
	if err != nil {
		return fmt.Errorf("open the stream engine: %w", err)
	}
	a.broker = broker
	a.stops = append(a.stops, stopFunc(func(context.Context) error { return broker.Close() }))
	if a.cfg.NATSURL == "" {
		attrs := []any{"store", a.cfg.NATSStoreDir()}
		if u := broker.ClientURL(); u != "" {
			attrs = append(attrs, "url", u)
		}
		a.logger.Info("embedded stream engine started", attrs...)
	}

	relay := outbox.New(a.store, outbox.BrokerPublisher{Broker: broker}, outbox.Config{Logger: a.logger, TraceRetain: max(0, a.cfg.TraceRetention)})
	if err := relay.Start(ctx); err != nil {
		return err
	}
	a.stops = append(a.stops, relay)

	if err := a.startProjections(ctx); err != nil {
		return err
	}

	if sinks != nil && len(sinks.Sinks) > 0 {
		r, err := sink.New(ctx, sink.Config{Broker: broker, Store: a.store, Sinks: sinks.Sinks, Logger: a.logger})
		if err != nil {
			return err
		}
		if err := r.Start(ctx); err != nil {
			return err
		}
		a.stops = append(a.stops, r)
		a.logger.Info("sinks started", "count", len(sinks.Sinks), "file", a.cfg.SinksFile)
	}
	if sinks != nil && len(sinks.Automations) > 0 {
		r, err := automation.New(automation.Config{Broker: broker, Store: a.store, Commands: a.service,
			Automations: sinks.Automations, Logger: a.logger})
		if err != nil {
			return err
		}
		if err := r.Start(ctx); err != nil {
			return err
		}
		a.stops = append(a.stops, r)
		a.logger.Info("automations started", "count", len(sinks.Automations), "file", a.cfg.SinksFile)
	}
	a.sinks = sinks
	return nil
}

// stopComponents stops what started, newest first.
func (a *App) stopComponents(ctx context.Context) error {
	var errs []error
	for i := len(a.stops) - 1; i >= 0; i-- {
		errs = append(errs, a.stops[i].Stop(ctx))
	}
	a.stops = nil
	return errors.Join(errs...)
}
