// Package readmodel_test checks what all read models promise together: a
// read model rebuilt from scratch equals the live one.
package readmodel_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/outbox"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/projection/projectiontest"
	"github.com/bluepoint/bluepoint/internal/readmodel/eventlog"
	"github.com/bluepoint/bluepoint/internal/readmodel/features"
	"github.com/bluepoint/bluepoint/internal/readmodel/users"
	"github.com/bluepoint/bluepoint/internal/service/servicetest"
	"github.com/bluepoint/bluepoint/internal/stream"
	"github.com/bluepoint/bluepoint/internal/workload"
)

func projections() []projection.Projection {
	return []projection.Projection{users.Projection{}, features.New(), eventlog.New()}
}

// After a random workload of 5,000 commands applied live through the
// streams, one event at a time, every read model rebuilt from the event
// store's global log, in batches of thousands, has the same content, table
// by table, on SQLite and on Postgres.
func TestRebuiltEqualsLive(t *testing.T) {
	if testing.Short() {
		t.Skip("a 5,000-command workload")
	}
	projectiontest.ForEachEngine(t, rebuiltEqualsLive)
}

func rebuiltEqualsLive(t *testing.T, store eventstore.Store, db *projection.DB) {
	// Postgres commits each command, and each event of each read model,
	// with a flush to disk: the workload takes minutes there.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	began := time.Now()
	broker, err := stream.Open(ctx, stream.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	relay := outbox.New(store, outbox.BrokerPublisher{Broker: broker}, outbox.Config{PollInterval: 50 * time.Millisecond})
	if err := relay.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer relay.Stop(context.Background())
	runner, err := projection.New(ctx, projection.Config{DB: db, Store: store, Broker: broker, Projections: projections()})
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer runner.Stop(context.Background())

	svc := servicetest.New(t, store, nil)
	staff := servicetest.Staff(t, svc, "Ops", "ops@example.org")
	sum, err := workload.Run(ctx, svc, workload.Config{Commands: 5000, Seed: 42, Staff: staff})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("workload: %d commands, %d accepted, %d refused, %v, in %s", sum.Commands, sum.Accepted, sum.Refused, sum.ByKind,
		time.Since(began).Round(time.Second))
	waitCaughtUp(t, ctx, store, runner)
	t.Logf("read models caught up after %s", time.Since(began).Round(time.Second))

	live := checksums(t, ctx, db)
	for _, p := range projections() {
		if err := runner.Rebuild(ctx, p.Name(), nil); err != nil {
			t.Fatal(err)
		}
	}
	rebuilt := checksums(t, ctx, db)
	for table, sum := range live {
		if rebuilt[table] != sum {
			t.Errorf("table %s: live %s, rebuilt %s", table, sum, rebuilt[table])
		}
	}
	if len(live) == 0 {
		t.Fatal("no tables compared")
	}
}

// waitCaughtUp waits until the outbox is empty and no projection lags.
func waitCaughtUp(t *testing.T, ctx context.Context, store eventstore.Store, r *projection.Runner) {
	deadline, _ := ctx.Deadline()
	for {
		pending, err := store.PendingOutbox(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		caught := len(pending) == 0
		sts, err := r.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range sts {
			caught = caught && st.LagEvents == 0
		}
		if caught {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("projections never caught up: %+v, outbox pending %d", sts, len(pending))
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline
	}
}

// checksums hashes every row of every view, in a stable order.
func checksums(t *testing.T, ctx context.Context, db *projection.DB) map[string]string {
	out := map[string]string{}
	for _, p := range projections() {
		for _, table := range p.Tables() {
			rows, err := db.Read.QueryContext(ctx, "SELECT * FROM "+table)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			var lines []string
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				lines = append(lines, fmt.Sprintf("%v", vals))
			}
			rows.Close()
			slices.Sort(lines)
			h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
			out[p.Name()+"."+table] = fmt.Sprintf("%d rows %s", len(lines), hex.EncodeToString(h[:8]))
		}
	}
	return out
}
