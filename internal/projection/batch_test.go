package projection_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/projection/projectiontest"
)

// row is a row of the test table as read back.
type row struct {
	k    string
	n    int64
	i    int64
	b    bool
	f    float64
	opt  sql.NullInt64
	note sql.NullString
}

// valueOf is v as a T, or what it points to; false for NULL.
func valueOf[T any](v any) (T, bool) {
	switch x := v.(type) {
	case T:
		return x, true
	case *T:
		if x != nil {
			return *x, true
		}
	}
	var zero T
	return zero, false
}

// Multi-row writes keep every value, NULLs included, on both dialects,
// whichever form the statement takes: arrays on Postgres where every
// column has a type, a VALUES list otherwise.
func TestValuesRoundTrip(t *testing.T) {
	projectiontest.ForEachEngine(t, func(t *testing.T, _ eventstore.Store, db *projection.DB) {
		ctx := context.Background()
		tx, err := db.Write.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck // the test's transaction is thrown away
		if _, err := tx.ExecContext(ctx, `CREATE TABLE mixed_t (k TEXT PRIMARY KEY, n BIGINT NOT NULL,
			i INTEGER NOT NULL, b BOOLEAN NOT NULL, f DOUBLE PRECISION NOT NULL, opt BIGINT, note TEXT)`); err != nil {
			t.Fatal(err)
		}
		ptx := projection.NewTx(tx, db.Dialect, map[string]string{"mixed": "mixed_t"})
		head := `INSERT INTO {mixed} (k, n, i, b, f, opt, note)`
		upsert := `ON CONFLICT (k) DO UPDATE SET n = excluded.n, opt = excluded.opt, note = excluded.note`
		want := map[string]row{}
		write := func(rows [][]any, tail string) {
			t.Helper()
			if err := ptx.ExecValues(ctx, head, rows, tail); err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				w := want[r[0].(string)]
				w.k = r[0].(string)
				w.n = reflect.ValueOf(r[1]).Int()
				if tail == "" {
					w.i, w.b, w.f = reflect.ValueOf(r[2]).Int(), r[3].(bool), r[4].(float64)
				}
				w.opt, w.note = sql.NullInt64{}, sql.NullString{}
				if n, ok := valueOf[int64](r[5]); ok {
					w.opt = sql.NullInt64{Int64: n, Valid: true}
				}
				if s, ok := valueOf[string](r[6]); ok {
					w.note = sql.NullString{String: s, Valid: true}
				}
				want[w.k] = w
			}
		}
		// int and int64 together; some NULLs; whole columns of untyped
		// NULLs (no type to cast to: a VALUES list); typed NULLs.
		write([][]any{
			{"a", int64(1), 2, true, 0.5, int64(7), "x"},
			{"b", 3, int64(4), false, 1.25, nil, nil},
			{"c", int64(-5), 6, true, -2.0, int64(-8), "it's"},
		}, ``)
		write([][]any{{"d", int64(9), 10, false, 3.0, nil, nil}, {"e", int64(11), 12, true, 4.0, nil, nil}}, ``)
		write([][]any{{"g", int64(13), 14, true, 5.0, (*int64)(nil), (*string)(nil)}, {"h", int64(15), 16, false, 6.0, new(int64(17)), new("w")}}, ``)
		write([][]any{{"a", int64(100), 0, false, 0.0, nil, "y"}, {"b", int64(200), 0, false, 0.0, int64(300), nil}}, upsert)

		var got []row
		var returned []string
		err = ptx.QueryValues(ctx, head, [][]any{{"f", int64(1), 1, true, 1.0, int64(1), "z"}}, `RETURNING k`,
			func(rows projection.Rows) error {
				var k string
				err := rows.Scan(&k)
				returned = append(returned, k)
				return err
			})
		if err != nil {
			t.Fatal(err)
		}
		want["f"] = row{k: "f", n: 1, i: 1, b: true, f: 1.0, opt: sql.NullInt64{Int64: 1, Valid: true}, note: sql.NullString{String: "z", Valid: true}}
		if fmt.Sprint(returned) != "[f]" {
			t.Errorf("RETURNING gave %v, want [f]", returned)
		}
		rs, err := tx.QueryContext(ctx, `SELECT k, n, i, b, f, opt, note FROM mixed_t ORDER BY k`)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.k, &r.n, &r.i, &r.b, &r.f, &r.opt, &r.note); err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d rows, want %d: %+v", len(got), len(want), got)
		}
		for _, r := range got {
			if r != want[r.k] {
				t.Errorf("row %s = %+v, want %+v", r.k, r, want[r.k])
			}
		}
	})
}

// Rows whose every column has a type go to Postgres as one array per
// column; a column with no type to cast to sends the caller back to VALUES.
func TestUnnestTypesColumns(t *testing.T) {
	six, eight := int64(6), int64(8)
	from, args, ok := projection.Unnest([][]any{
		{"a", 1, int64(2), true, 0.5, nil, (*int64)(nil), (*string)(nil)},
		{"b", int64(3), 4, false, 1.5, int64(6), &eight, new("x")},
	})
	if !ok {
		t.Fatal("typed rows: no arrays")
	}
	if want := "SELECT unnest(?::text[]), unnest(?::bigint[]), unnest(?::bigint[]), unnest(?::boolean[]), unnest(?::float8[]), unnest(?::bigint[]), unnest(?::bigint[]), unnest(?::text[])"; from != want {
		t.Errorf("from = %q, want %q", from, want)
	}
	wantArgs := []any{[]string{"a", "b"}, []int64{1, 3}, []int64{2, 4}, []bool{true, false}, []float64{0.5, 1.5},
		[]*int64{nil, &six}, []*int64{nil, &eight}, []*string{nil, new("x")}}
	if !reflect.DeepEqual(args, wantArgs) {
		t.Errorf("args = %#v, want %#v", args, wantArgs)
	}
	for name, rows := range map[string][][]any{
		"all NULL":       {{"a", nil}, {"b", nil}},
		"pointer to int": {{"a", new(1)}},
		"mixed types":    {{"a", 1}, {"b", "2"}},
		"unknown type":   {{"a", []byte("x")}},
		"ragged rows":    {{"a", 1}, {"b"}},
		"time":           {{"a", time.Now()}},
	} {
		if from, _, ok := projection.Unnest(rows); ok {
			t.Errorf("%s: %q, want VALUES instead", name, from)
		}
	}
}
