package readmodel_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/projection/projectiontest"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// On Postgres a read model's multi-row writes send one array per column,
// typed from the Go values (projection.Tx.ExecValues): a text array can
// fill only a text column. Every column of every read model must be of a
// type those arrays fill.
func TestReadModelColumnsTakeArrays(t *testing.T) {
	projectiontest.ForEachEngine(t, func(t *testing.T, store eventstore.Store, db *projection.DB) {
		if db.Dialect != projection.Postgres {
			t.Skip("SQLite takes any value in any column")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		broker, err := stream.Open(ctx, stream.Config{StoreDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer broker.Close()
		if _, err := projection.New(ctx, projection.Config{DB: db, Store: store, Broker: broker, Projections: projections()}); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Read.QueryContext(ctx, `SELECT c.table_name, c.column_name, c.data_type
			FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
			WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		fillable := []string{"text", "bigint", "integer", "boolean", "double precision"}
		n := 0
		for rows.Next() {
			var table, column, typ string
			if err := rows.Scan(&table, &column, &typ); err != nil {
				t.Fatal(err)
			}
			n++
			if !slices.Contains(fillable, typ) {
				t.Errorf("%s.%s is %s: no array of the projection package fills it", table, column, typ)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n < 40 {
			t.Fatalf("%d columns found in the read schema: the read models' tables are not there", n)
		}
	})
}
