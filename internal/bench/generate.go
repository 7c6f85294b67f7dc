package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/config"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/sqlite"
	"github.com/bluepoint/bluepoint/internal/service"
)

// Shape of the generated event store: accounts of eventsPerAccount events
// (an opening, then credits and debits over a year, and for some a
// closing), accountsPerAppend accounts per append, appended by
// generateWriters writers at once.
const (
	eventsPerAccount  = 10
	accountsPerAppend = 10
	generateWriters   = 4
)

var generateStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// generateEvents fills cfg's store with n events (GenerateEvents).
func (r *runner) generateEvents(ctx context.Context, cfg config.Config, n int) error {
	store, err := openEventStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	return GenerateEvents(ctx, store, n, r.logf)
}

// GenerateEvents appends n events to store through the service's codec, as
// the service would write them, then marks the outbox sent and prunes it: a
// store that has served for a while has published everything, so neither
// the rebuilds nor a restart should publish it. logf reports progress.
// Workload 4 rebuilds from this data, and so does the read models' rebuild
// benchmark, so that both measure the same log.
func GenerateEvents(ctx context.Context, store eventstore.Store, n int, logf func(format string, args ...any)) error {
	codec := service.NewCodec()
	accounts := (n + eventsPerAccount - 1) / eventsPerAccount
	var (
		nextAccount atomic.Int64
		written     atomic.Int64
		wg          sync.WaitGroup
		mu          sync.Mutex
		errs        []error
		reported    atomic.Int64
	)
	for w := range generateWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w)+1, 0xbe7c4))
			for ctx.Err() == nil {
				first := int(nextAccount.Add(accountsPerAppend)) - accountsPerAppend
				if first >= accounts {
					return
				}
				var params eventstore.AppendParams
				for a := first; a < min(first+accountsPerAppend, accounts); a++ {
					count := min(eventsPerAccount, n-a*eventsPerAccount)
					sa, err := accountEvents(codec, rng, count)
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					params.Streams = append(params.Streams, sa)
				}
				if _, err := store.Append(ctx, &params); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				done := written.Add(int64(len(params.Streams) * eventsPerAccount))
				if step := int64(max(1, n/10)); done/step > reported.Load() {
					reported.Store(done / step)
					logf("event store: appended %d/%d events", min(int(done), n), n)
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("generate events: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for {
		pending, err := store.PendingOutbox(ctx, 5000)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			// A relay prunes rows once they are older than what it keeps
			// for recovery: without them, a start finds nothing it might
			// have to publish again.
			_, err := store.PruneOutbox(ctx, time.Now().Add(time.Second))
			return err
		}
		ids := make([]int64, len(pending))
		for i, e := range pending {
			ids[i] = e.ID
		}
		if err := store.MarkSent(ctx, ids); err != nil {
			return err
		}
	}
}

// accountEvents is one civilian's stream: opened at a random time in the
// first half of the year, credits and debits after it, and for three in
// ten a closing as the last event.
func accountEvents(codec interface {
	Encode(any) (eventstore.EventData, error)
}, rng *rand.Rand, count int) (eventstore.StreamAppend, error) {
	id := uuid.NewString()
	year := 365 * 24 * time.Hour
	opened := generateStart.Add(time.Duration(rng.Int64N(int64(year / 2))))
	span := int64(year / 2)
	evs := []any{account.AccountOpened{AccountID: id, Kind: account.Civilian, Status: account.Active,
		Name: "Generated civilian", Email: id + "@example.org", OpenedAt: opened}}
	closes := rng.IntN(10) < 3
	var balance int64
	for i := 1; i < count; i++ {
		at := opened.Add(time.Duration(int64(i) * span / int64(count)))
		switch {
		case i == count-1 && closes:
			evs = append(evs, account.AccountClosed{AccountID: id, Reason: "moved away", ClosedAt: at})
		case balance >= 5 && rng.IntN(3) == 0:
			balance -= 5
			evs = append(evs, account.PointsDebited{AccountID: id, Points: 5, Reason: "donation", TxID: uuid.NewString(), Balance: balance, DebitedAt: at})
		default:
			balance += 10
			evs = append(evs, account.PointsCredited{AccountID: id, Points: 10, Reason: "interaction", TxID: uuid.NewString(), Balance: balance, CreditedAt: at})
		}
	}
	sa := eventstore.StreamAppend{StreamID: eventstore.StreamID("account", id), Expected: eventstore.NoStream}
	for _, e := range evs {
		d, err := codec.Encode(e)
		if err != nil {
			return sa, err
		}
		sa.Events = append(sa.Events, d)
	}
	return sa, nil
}

// openEventStore opens cfg's event store as serve would.
func openEventStore(ctx context.Context, cfg config.Config) (eventstore.Store, error) {
	if cfg.UsesSQLite() {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, err
		}
		// The generated data is thrown away on a crash anyway: skip the
		// fsync per commit.
		return sqlite.Open(ctx, sqlite.Config{Path: cfg.SQLitePath(), Synchronous: "NORMAL"})
	}
	return postgres.Open(ctx, postgres.Config{URL: cfg.DatabaseURL, Schema: cfg.DatabaseSchema, AppRole: cfg.AppRole})
}
