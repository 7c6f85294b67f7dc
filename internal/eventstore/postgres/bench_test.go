package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// BenchmarkAppend compares the store with plain SQL inserting the same rows.
//
//	BLUEPOINT_TEST_POSTGRES=postgres://... go test -run '^$' -bench Append -benchtime 3000x ./internal/eventstore/postgres/
func BenchmarkAppend(b *testing.B) {
	storetest.BenchmarkAppend(b, storetest.BenchTarget{
		Store: openBenchStore,
		Raw:   rawPostgres,
	}, 3)
}

// openBenchStore opens a store on a fresh schema.
func openBenchStore(b *testing.B) eventstore.Store {
	url, schema := benchSchema(b)
	s, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchSchema(b *testing.B) (url, schema string) {
	url = testenv.Postgres(b)
	schema = storetest.NewSchema(b, url)
	if err := postgres.Migrate(context.Background(), postgres.MigrateParams{URL: url, Schema: schema}); err != nil {
		b.Fatal(err)
	}
	return url, schema
}

// rawPostgres writes the same rows with a plain pgx pool of the same size:
// begin, insert the events returning their positions, insert the outbox
// rows, insert the idempotency record, commit.
func rawPostgres(b *testing.B) storetest.RawAppend {
	url, schema := benchSchema(b)
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	pc.ConnConfig.RuntimeParams["search_path"] = schema
	pc.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return func(ctx context.Context, w storetest.RawWrite) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			now := time.Now()
			var (
				values []string
				args   []any
			)
			for j, e := range w.Events {
				meta, _ := json.Marshal(e.Metadata)
				n := len(args)
				values = append(values, fmt.Sprintf("($%d, $%d, $%d, 'account', $%d, 1, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7))
				args = append(args, e.ID, w.StreamID, w.FirstVersion+int64(j), e.Type, string(e.Data), string(meta), now)
			}
			rows, err := tx.Query(ctx, `INSERT INTO events (event_id, stream_id, stream_version, category, type, schema_version, data, metadata, recorded_at)
				VALUES `+strings.Join(values, ", ")+` RETURNING global_position`, args...)
			if err != nil {
				return err
			}
			positions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return fmt.Errorf("raw insert events: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO outbox (global_position) SELECT unnest($1::bigint[])`, positions); err != nil {
				return fmt.Errorf("raw insert outbox: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO idempotency (key, fingerprint, status, response, created_at) VALUES ($1, 'f', 201, '{"ok":true}', $2)`, w.Key, now); err != nil {
				return fmt.Errorf("raw insert idempotency: %w", err)
			}
			return nil
		})
	}
}

// BenchmarkTraceSteps compares random and time-ordered trace ids.
//
//	BLUEPOINT_TEST_POSTGRES=postgres://... go test -run '^$' -bench TraceSteps -benchtime 20000x ./internal/eventstore/postgres/
func BenchmarkTraceSteps(b *testing.B) {
	storetest.BenchmarkTraceSteps(b, openBenchStore, 200_000)
}
