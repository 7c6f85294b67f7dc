package projection

import (
	"strings"
)

// unnest turns rows into one array per column, for Postgres to read as
// "SELECT unnest(?::text[]), unnest(?::bigint[]), ...". A multi-row VALUES
// list binds one parameter per value, each encoded on its own, and is a
// new statement text (prepared and planned anew) for every row count; the
// arrays are a parameter per column and one statement text per table,
// whatever the batch.
//
// The unnests stand in the select list, where Postgres walks the arrays in
// step, a row at a time, rather than in FROM, where unnest(a, b, ...) is a
// function scan that first copies each array into a tuple store of its own.
// Those stores made a wide table's insert cost 2.4 to 2.7 times as much
// (20 columns of 8 rows: 0.40-0.44 ms against 0.16), most of it memory
// handed to the allocator and back at every statement. Arrays of equal length give
// the same rows either way.
//
// The arrays' types come from the Go values (string: text, int and int64:
// bigint, bool: boolean, float64: float8; a nil *string or *int64 is a NULL
// of its type), not from the table, and Postgres assigns text only to text
// columns: a column of another type written from strings must not come
// here. It gives false when a column has no type to cast to (all untyped
// nil, or values of mixed or other Go types) or the rows differ in width:
// the caller then writes a VALUES list, which checks them.
func unnest(rows [][]any) (from string, args []any, ok bool) {
	width := len(rows[0])
	for _, r := range rows {
		if len(r) != width {
			return "", nil, false
		}
	}
	var sel strings.Builder
	sel.WriteString("SELECT ")
	args = make([]any, width)
	for col := range width {
		arr, typ, ok := column(rows, col)
		if !ok {
			return "", nil, false
		}
		if col > 0 {
			sel.WriteString(", ")
		}
		sel.WriteString("unnest(?::" + typ + "[])")
		args[col] = arr
	}
	return sel.String(), args, true
}

// column gathers one column of rows into a typed slice, a slice of
// pointers when some values are NULL, and names its Postgres type.
func column(rows [][]any, col int) (arr any, typ string, ok bool) {
	var kind any
	for _, r := range rows {
		if r[col] != nil {
			kind = r[col]
			break
		}
	}
	switch kind.(type) {
	case string, *string:
		return gather[string](rows, col, "text")
	case int, int64, *int64:
		return gather[int64](rows, col, "bigint")
	case bool:
		return gather[bool](rows, col, "boolean")
	case float64:
		return gather[float64](rows, col, "float8")
	}
	return nil, "", false
}

// gather converts a column's values to T: a []T when none is NULL, a []*T
// otherwise.
func gather[T any](rows [][]any, col int, typ string) (any, string, bool) {
	vals := make([]T, len(rows))
	var nulls []bool
	for i, r := range rows {
		v, null, ok := as[T](r[col])
		if !ok {
			return nil, "", false
		}
		if null {
			if nulls == nil {
				nulls = make([]bool, len(rows))
			}
			nulls[i] = true
			continue
		}
		vals[i] = v
	}
	if nulls == nil {
		return vals, typ, true
	}
	ptrs := make([]*T, len(rows))
	for i := range vals {
		if !nulls[i] {
			ptrs[i] = &vals[i]
		}
	}
	return ptrs, typ, true
}

// as reads v as a T: itself, a pointer to one (nil is NULL), an untyped
// nil (NULL), or, for int64, an int.
func as[T any](v any) (val T, null, ok bool) {
	switch x := v.(type) {
	case nil:
		return val, true, true
	case T:
		return x, false, true
	case *T:
		if x == nil {
			return val, true, true
		}
		return *x, false, true
	case int:
		if p, isInt64 := any(&val).(*int64); isInt64 {
			*p = int64(x)
			return val, false, true
		}
	}
	return val, false, false
}
