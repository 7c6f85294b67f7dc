package readmodel_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/bench"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/sqlite"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// fillAccounts appends accounts with `credits` ledger entries each, 100
// events per transaction, through the codec, as the service would.
func fillAccounts(b *testing.B, store eventstore.Store, accounts, credits int) int {
	codec := service.NewCodec()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	for a := 0; a < accounts; a++ {
		id := uuid.NewString()
		evs := []any{account.AccountOpened{AccountID: id, Kind: account.Civilian, Status: account.Active, Name: "n", Email: "e", OpenedAt: at}}
		var balance int64
		for c := 0; c < credits; c++ {
			balance += 10
			evs = append(evs, account.PointsCredited{AccountID: id, Points: 10, Reason: "interaction", TxID: uuid.NewString(), Balance: balance, CreditedAt: at.Add(time.Duration(c) * time.Hour)})
		}
		version := int64(0)
		for len(evs) > 0 {
			chunk := evs[:min(100, len(evs))]
			evs = evs[len(chunk):]
			var data []eventstore.EventData
			for _, e := range chunk {
				d, err := codec.Encode(e)
				if err != nil {
					b.Fatal(err)
				}
				data = append(data, d)
			}
			if _, err := store.Append(context.Background(), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
				{StreamID: "account-" + id, Expected: eventstore.ExpectedVersion(version), Events: data}}}); err != nil {
				b.Fatal(err)
			}
			version += int64(len(chunk))
			n += len(chunk)
		}
	}
	return n
}

// BenchmarkRebuild measures how fast read models are rebuilt from the
// global log (events applied per second), on SQLite and on Postgres.
//
//	BLUEPOINT_TEST_POSTGRES=postgres://... go test -run '^$' -bench Rebuild -benchtime 1x ./internal/readmodel/
//	BLUEPOINT_BENCH_REBUILD_ACCOUNTS=1000 BLUEPOINT_TEST_POSTGRES=postgres://... go test -run '^$' -bench Rebuild -benchtime 1x ./internal/readmodel/
//	BLUEPOINT_BENCH_REBUILD_EVENTS=100000 BLUEPOINT_TEST_POSTGRES=postgres://... go test -run '^$' -bench Rebuild -benchtime 1x ./internal/readmodel/
func BenchmarkRebuild(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var (
				store eventstore.Store
				db    *projection.DB
				err   error
			)
			if engine == "sqlite" {
				ss, serr := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(b.TempDir(), "events.db")})
				if serr != nil {
					b.Fatal(serr)
				}
				b.Cleanup(func() { ss.Close() })
				store = ss
				db, err = projection.OpenSQLite(filepath.Join(b.TempDir(), "read.db"))
			} else {
				url := testenv.Postgres(b)
				schema := storetest.NewSchema(b, url)
				if err := postgres.Migrate(context.Background(), postgres.MigrateParams{URL: url, Schema: schema}); err != nil {
					b.Fatal(err)
				}
				ps, perr := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema})
				if perr != nil {
					b.Fatal(perr)
				}
				b.Cleanup(func() { ps.Close() })
				store = ps
				db, err = projection.OpenPostgres(context.Background(), url, postgres.ReadSchema(schema), postgres.DefaultAppRole)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			n := fillLog(b, store)
			r, err := projection.New(context.Background(), projection.Config{DB: db, Store: store, Projections: projections()})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, p := range projections() {
					start := time.Now()
					if err := r.Rebuild(context.Background(), p.Name(), nil); err != nil {
						b.Fatal(err)
					}
					rate := float64(n) / time.Since(start).Seconds()
					b.ReportMetric(rate, p.Name()+"-events/s")
					fmt.Printf("rebuild %s on %s: %d events at %.0f events/s\n", p.Name(), engine, n, rate)
				}
			}
		})
	}
}

// fillLog fills store with the log the benchmark rebuilds from. With
// BLUEPOINT_BENCH_REBUILD_EVENTS=N it is N events of `bluepoint bench`'s
// workload 4 (accounts of 10 events: many streams, more accounts per event);
// otherwise benchAccounts accounts of 101 events each.
func fillLog(b *testing.B, store eventstore.Store) int {
	v := os.Getenv("BLUEPOINT_BENCH_REBUILD_EVENTS")
	if v == "" {
		return fillAccounts(b, store, benchAccounts(b), 100)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("BLUEPOINT_BENCH_REBUILD_EVENTS=%q: want a number of events", v)
	}
	if err := bench.GenerateEvents(context.Background(), store, n, b.Logf); err != nil {
		b.Fatal(err)
	}
	return n
}

// benchAccounts is how many accounts (of 101 events each) the rebuild
// benchmark fills the store with: 100 unless BLUEPOINT_BENCH_REBUILD_ACCOUNTS
// says otherwise. A larger log shows the rate without the fixed cost of
// creating, indexing and swapping the tables.
func benchAccounts(b *testing.B) int {
	v := os.Getenv("BLUEPOINT_BENCH_REBUILD_ACCOUNTS")
	if v == "" {
		return 100
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("BLUEPOINT_BENCH_REBUILD_ACCOUNTS=%q: want a number of accounts", v)
	}
	return n
}
