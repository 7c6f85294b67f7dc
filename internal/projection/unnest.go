package projection

import (
	"strings"
)

// unnest turns rows into one array per column, for Postgres to read as
// "SELECT * FROM unnest(?::text[], ?::bigint[], ...)". A multi-row VALUES
// list binds one parameter per value, each encoded on its own, and is a
// new statement text (prepared and planned anew) for every row count; the
// arrays are a parameter per column and one statement text per table,
// whatever the batch. It gives false when a column has no type to cast to
// (all NULL, or values of mixed or unknown Go types) or the rows differ in
// width: the caller then writes a VALUES list, which checks them.
func unnest(rows [][]any) (from string, args []any, ok bool) {
	width := len(rows[0])
	for _, r := range rows {
		if len(r) != width {
			return "", nil, false
		}
	}
	var sel strings.Builder
	sel.WriteString("SELECT * FROM unnest(")
	args = make([]any, width)
	for col := range width {
		arr, typ, ok := column(rows, col)
		if !ok {
			return "", nil, false
		}
		if col > 0 {
			sel.WriteString(", ")
		}
		sel.WriteString("?::" + typ + "[]")
		args[col] = arr
	}
	sel.WriteString(")")
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
	case string:
		return gather(rows, col, func(v any) (string, bool) { s, ok := v.(string); return s, ok }, "text")
	case int, int64:
		return gather(rows, col, func(v any) (int64, bool) {
			switch n := v.(type) {
			case int:
				return int64(n), true
			case int64:
				return n, true
			}
			return 0, false
		}, "bigint")
	case bool:
		return gather(rows, col, func(v any) (bool, bool) { b, ok := v.(bool); return b, ok }, "boolean")
	case float64:
		return gather(rows, col, func(v any) (float64, bool) { f, ok := v.(float64); return f, ok }, "float8")
	}
	return nil, "", false
}

// gather converts a column's values with conv: a []T when none is NULL,
// a []*T otherwise.
func gather[T any](rows [][]any, col int, conv func(any) (T, bool), typ string) (any, string, bool) {
	vals := make([]T, len(rows))
	var nulls []bool
	for i, r := range rows {
		if r[col] == nil {
			if nulls == nil {
				nulls = make([]bool, len(rows))
			}
			nulls[i] = true
			continue
		}
		v, ok := conv(r[col])
		if !ok {
			return nil, "", false
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
