package testenv_test

import (
	"runtime"
	"testing"

	"github.com/bluepoint/bluepoint/internal/testenv"
)

// recorder is a testing.TB that records Skip and Fatal and, like the real
// ones, ends the calling goroutine, so the rule itself can be tested.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true; runtime.Goexit() }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; runtime.Goexit() }

// call runs get on its own goroutine, as Goexit must not end the test's.
func call(t *testing.T, get func(testing.TB) string) (string, *recorder) {
	r := &recorder{TB: t}
	var got string
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = get(r)
	}()
	<-done
	return got, r
}

func TestLookupRule(t *testing.T) {
	tests := []struct {
		name, value, require string
		wantURL              string
		wantSkip, wantFail   bool
	}{
		{name: "set", value: "postgres://h/db", wantURL: "postgres://h/db"},
		{name: "set and required", value: "postgres://h/db", require: "1", wantURL: "postgres://h/db"},
		{name: "unset skips", wantSkip: true},
		{name: "unset and required fails", require: "1", wantFail: true},
		{name: "require other than 1 skips", require: "yes", wantSkip: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, svc := range []struct {
				env string
				get func(testing.TB) string
			}{{"BLUEPOINT_TEST_POSTGRES", testenv.Postgres}, {"BLUEPOINT_TEST_NATS", testenv.NATS}} {
				t.Setenv(svc.env, tt.value)
				t.Setenv("BLUEPOINT_TEST_REQUIRE", tt.require)
				got, r := call(t, svc.get)
				if got != tt.wantURL || r.skipped != tt.wantSkip || r.failed != tt.wantFail {
					t.Errorf("%s: got (%q, skipped=%v, failed=%v), want (%q, %v, %v)",
						svc.env, got, r.skipped, r.failed, tt.wantURL, tt.wantSkip, tt.wantFail)
				}
			}
		})
	}
}
