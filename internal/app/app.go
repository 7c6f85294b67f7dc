// Package app is Bluepoint's composition root: it builds the components a
// process runs from one config.Config, starts them in order and stops them in
// reverse. Nothing else wires components together, so the shape of a running
// process can be read in this package alone.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/auth/token"
	"github.com/bluepoint/bluepoint/internal/config"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/sinkconfig"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// App is one running Bluepoint process.
type App struct {
	cfg    config.Config
	logger *slog.Logger
	out    io.Writer

	service     *service.Service
	broker      *stream.Broker
	readDB      *projection.DB
	projections *projection.Runner
	sinks       *sinkconfig.File
	tokens      *token.Manager
	metrics     *api.Metrics
	// stops holds the started components, stopped in reverse order.
	stops []stopper

	store       eventstore.Store
	storeClosed bool
	server      *http.Server
	listener    net.Listener
	failed      chan error
	served      sync.WaitGroup
}

// New checks cfg and builds the components. It opens nothing: Start does,
// so a process that fails to start holds no resources.
func New(cfg config.Config, logger *slog.Logger, opts ...Option) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if logger == nil {
		return nil, errors.New("app: nil logger")
	}
	a := &App{cfg: cfg, logger: logger, out: io.Discard, failed: make(chan error, 1)}
	for _, o := range opts {
		o(a)
	}
	a.server = &http.Server{
		Addr: cfg.Listen,
		// The handler is set by Start, once the components it calls exist.
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return a, nil
}

// Start opens the event store and starts serving HTTP. It returns once the
// listener is bound, so a caller may connect as soon as it returns; on error
// whatever it opened is closed again.
func (a *App) Start(ctx context.Context) error {
	store, err := openStore(ctx, a.cfg)
	if err != nil {
		return err
	}
	a.store = store
	a.logger.Info("event store open", storeAttrs(a.cfg)...)
	if err := a.startService(ctx); err != nil {
		return errors.Join(err, a.closeStore())
	}
	if err := a.startStreams(ctx); err != nil {
		return errors.Join(err, a.stopComponents(ctx), a.closeStore())
	}
	if err := a.startAPI(ctx); err != nil {
		return errors.Join(err, a.stopComponents(ctx), a.closeStore())
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", a.cfg.Listen)
	if err != nil {
		return errors.Join(fmt.Errorf("listen on %s: %w", a.cfg.Listen, err), a.stopComponents(ctx), a.closeStore())
	}
	a.listener = ln
	a.served.Add(1)
	go a.serve(ln)
	a.logger.Info("listening", "addr", ln.Addr().String())
	// Starting allocates what serving never needs again (migrations, key
	// generation, the first staff account's 19 MiB password hash); give it
	// back now rather than when the scavenger gets round to it.
	debug.FreeOSMemory()
	return nil
}

func (a *App) serve(ln net.Listener) {
	defer a.served.Done()
	if err := a.server.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		a.failed <- fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	}
}

// Option changes how New builds an App.
type Option func(*App)

// WithOutput sets where the App prints what an operator must see once, such
// as the first staff account's credentials. Default: discarded.
func WithOutput(w io.Writer) Option { return func(a *App) { a.out = w } }

func (a *App) startService(ctx context.Context) error {
	var err error
	if a.service, err = newService(a.cfg, a.store, a.logger); err != nil {
		return err
	}
	if a.cfg.UsesSQLite() {
		return bootstrapStaff(ctx, a.service, a.out)
	}
	return nil
}

// Addr is the address the HTTP server listens on (useful with port 0), or
// nil before Start.
func (a *App) Addr() net.Addr {
	if a.listener == nil {
		return nil
	}
	return a.listener.Addr()
}

// Failed delivers the error of a component that stopped on its own after
// Start; the process should then shut down.
func (a *App) Failed() <-chan error { return a.failed }

// Stop shuts down in reverse order of Start: the HTTP server first (waiting
// for in-flight requests until ctx ends), then the event store.
func (a *App) Stop(ctx context.Context) error {
	var errs []error
	if a.listener != nil {
		if err := a.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down http: %w", err))
			// Requests still running past the deadline are cut off so the
			// store is not closed under them.
			errs = append(errs, a.server.Close())
		}
		a.served.Wait()
	}
	errs = append(errs, a.stopComponents(ctx))
	errs = append(errs, a.closeStore())
	a.logger.Info("stopped")
	return errors.Join(errs...)
}

func (a *App) closeStore() error {
	// The store stays assigned: a request cut off at shutdown may still
	// read the field, and gets the store's own "closed" error.
	if a.store == nil || a.storeClosed {
		return nil
	}
	a.storeClosed = true
	err := a.store.Close()
	if err != nil {
		return fmt.Errorf("close event store: %w", err)
	}
	return nil
}
