package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/bluepoint/bluepoint/internal/app"
	"github.com/bluepoint/bluepoint/internal/config"
)

// serveCmd runs the process until it is told to stop.
type serveCmd struct {
	configFlags
	Demo        bool   `name:"demo" help:"On first start, load the demo data (as bluepoint demo does) and print its logins; later starts print the logins again."`
	MemoryLimit string `name:"memory-limit" env:"BLUEPOINT_MEMORY_LIMIT" default:"${default_memory_limit}" placeholder:"SIZE" help:"Soft limit on the Go runtime's memory (as GOMEMLIMIT, which wins when set): past it the garbage collector runs sooner. 0 for none. Default: ${default}."`
}

// Run starts the app, waits for ctx to end (a signal) or a component to
// fail, then shuts down within the configured timeout. It reports to the
// JSON log on Stderr; what an operator must see once (credentials, the
// demo's logins) goes to Stdout. With --demo it loads the demo data once
// serving, so the read models fill as the data is written.
func (c *serveCmd) Run(ctx context.Context, p *Program) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	if _, err := setMemoryLimit(c.MemoryLimit, os.Getenv("GOMEMLIMIT")); err != nil {
		return &usageError{err: fmt.Errorf("--memory-limit (BLUEPOINT_MEMORY_LIMIT): %w", err)}
	}
	logger := newLogger(p.Stderr, cfg)
	a, err := app.New(cfg, logger, app.WithOutput(p.Stdout))
	if err != nil {
		return logged(logger, "build app", err)
	}
	if err := a.Start(ctx); err != nil {
		return logged(logger, "start", err)
	}
	var failure error
	if c.Demo {
		if failure = loadDemo(ctx, a, p.Stdout, logger); failure != nil {
			logger.Error("demo failed, shutting down", "err", failure)
		}
	}
	if failure == nil {
		select {
		case <-ctx.Done():
			logger.Info("shutting down", "reason", context.Cause(ctx).Error(), "timeout", cfg.ShutdownTimeout.String())
		case failure = <-a.Failed():
			logger.Error("component failed, shutting down", "err", failure)
		}
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := a.Stop(stopCtx); err != nil {
		return logged(logger, "stop", err)
	}
	if failure != nil {
		return &loggedError{err: failure}
	}
	return nil
}

// logged writes err to the log and marks it as reported.
func logged(logger *slog.Logger, op string, err error) error {
	err = fmt.Errorf("%s: %w", op, err)
	logger.Error(op+" failed", "err", err)
	return &loggedError{err: err}
}

// newLogger returns the process logger: JSON lines on w at cfg's level.
func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
}
