package cli

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestSetMemoryLimit(t *testing.T) {
	was := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(was) })

	for _, c := range []struct {
		size, env string
		want      int64
	}{
		{size: "128MiB", want: 128 << 20},
		{size: "1GB", want: 1_000_000_000},
		{size: "64MiB", want: 64 << 20},
		{size: "0", want: math.MaxInt64},
		{size: "64MiB", env: "1GiB", want: math.MaxInt64}, // GOMEMLIMIT wins: the limit in force stays
	} {
		got, err := setMemoryLimit(c.size, c.env)
		if err != nil {
			t.Fatalf("%q (GOMEMLIMIT %q): %v", c.size, c.env, err)
		}
		if got != c.want || debug.SetMemoryLimit(-1) != c.want {
			t.Errorf("%q (GOMEMLIMIT %q): limit %d, in force %d, want %d", c.size, c.env, got, debug.SetMemoryLimit(-1), c.want)
		}
	}
	debug.SetMemoryLimit(123 << 20)
	for _, bad := range []string{"lots", "-1", "1KiB", "63MiB"} {
		if _, err := setMemoryLimit(bad, ""); err == nil {
			t.Errorf("%q accepted as a memory limit", bad)
		}
		if got := debug.SetMemoryLimit(-1); got != 123<<20 {
			t.Errorf("refusing %q changed the limit to %d", bad, got)
		}
	}
}
