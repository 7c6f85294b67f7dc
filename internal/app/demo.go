package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/bluepoint/bluepoint/internal/config"
	"github.com/bluepoint/bluepoint/internal/demo"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/service"
)

// DemoParams says where Demo loads the demo data and how much of it.
type DemoParams struct {
	Config config.Config
	// Accounts is how many accounts to open. Default demo.DefaultAccounts.
	Accounts int
	// Transactions is how many transactions to record. Default
	// demo.DefaultTransactions.
	Transactions int
	// Seed picks the story. Default 1.
	Seed uint64
	// Progress is called as accounts open and transactions are recorded.
	Progress func(done, total int)
}

// Demo opens the store cfg selects (a server may be running on it) and
// loads the demo data into it, or, when an earlier load did, returns the
// demo's logins.
func Demo(ctx context.Context, p DemoParams, logger *slog.Logger) (demo.Result, error) {
	store, err := openStore(ctx, p.Config)
	if err != nil {
		return demo.Result{}, err
	}
	defer store.Close()
	return demo.Load(ctx, demo.Params{NewService: demoService(p.Config, store, logger),
		Accounts: p.Accounts, Transactions: p.Transactions, Seed: p.Seed, Progress: p.Progress})
}

// LoadDemo loads the demo data into the running app's store (serve
// --demo), or returns the logins of an earlier load. The read models
// catch up through the streams as they do for any command.
func (a *App) LoadDemo(ctx context.Context, progress func(done, total int)) (demo.Result, error) {
	return a.loadDemo(ctx, demo.Params{Progress: progress})
}

// loadDemo is LoadDemo with every parameter but the service builder, for
// tests that load less than the full demo.
func (a *App) loadDemo(ctx context.Context, p demo.Params) (demo.Result, error) {
	if a.store == nil || a.storeClosed {
		return demo.Result{}, errors.New("load demo: the app is not running")
	}
	p.NewService = demoService(a.cfg, a.store, a.logger)
	return demo.Load(ctx, p)
}

// demoService builds services on the demo's simulated clock, with the
// installation's keys, so that what the demo writes reads like the rest.
func demoService(cfg config.Config, store eventstore.Store, logger *slog.Logger) func(func() time.Time) (*service.Service, error) {
	return func(now func() time.Time) (*service.Service, error) {
		return newService(cfg, store, logger, withClock(now))
	}
}
