package testenv_test

import (
	"testing"

	"github.com/bluepoint/bluepoint/internal/testenv"
)

// recorder is a testing.TB that records Skip and Fatal instead of acting on
// the running test, so the rule itself can be tested.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

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
			for _, get := range []struct {
				env string
				fn  func(testing.TB) string
			}{{testenv.PostgresEnv, testenv.Postgres}, {testenv.NATSEnv, testenv.NATS}} {
				t.Setenv(get.env, tt.value)
				t.Setenv(testenv.RequireEnv, tt.require)
				r := &recorder{TB: t}
				got := get.fn(r)
				if got != tt.wantURL || r.skipped != tt.wantSkip || r.failed != tt.wantFail {
					t.Errorf("%s: got (%q, skipped=%v, failed=%v), want (%q, %v, %v)",
						get.env, got, r.skipped, r.failed, tt.wantURL, tt.wantSkip, tt.wantFail)
				}
			}
		})
	}
}
