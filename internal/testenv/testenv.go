// Package testenv finds the external services tests run against.
//
// A laptop may lack Postgres or NATS, so suites that need them skip there.
// CI sets BLUEPOINT_TEST_REQUIRE=1, which turns every such skip into a
// failure: a suite that silently skips in CI proves nothing.
package testenv

import (
	"os"
	"sync"
	"testing"
	"time"
)

// Postgres returns the Postgres URL from BLUEPOINT_TEST_POSTGRES, or skips
// (fails under BLUEPOINT_TEST_REQUIRE=1) when it is unset.
func Postgres(t testing.TB) string { return need(t, "BLUEPOINT_TEST_POSTGRES", "Postgres") }

// NATS returns the NATS URL from BLUEPOINT_TEST_NATS, or skips (fails under
// BLUEPOINT_TEST_REQUIRE=1) when it is unset.
func NATS(t testing.TB) string { return need(t, "BLUEPOINT_TEST_NATS", "NATS") }

// Required reports whether skips of external suites are failures.
func Required() bool { return os.Getenv("BLUEPOINT_TEST_REQUIRE") == "1" }

func need(t testing.TB, env, what string) string {
	t.Helper()
	if v := os.Getenv(env); v != "" {
		return v
	}
	if Required() {
		t.Fatalf("%s is required (BLUEPOINT_TEST_REQUIRE=1) but %s is not set", what, env)
	}
	t.Skipf("%s not set: skipping the %s suite", env, what)
	return ""
}

// Clock is a settable time source, shared by a test and the code under
// test (give it clock.Now), safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads t until it is advanced.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
