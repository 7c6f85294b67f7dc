// Package testenv gives tests the external services they may run against.
// Tests always run on SQLite; Postgres and NATS come from environment
// variables. On a laptop a missing service skips the test; in CI
// (BLUEPOINT_TEST_REQUIRE=1) it fails it, so a misconfigured pipeline cannot
// pass by skipping everything that matters.
package testenv

import (
	"os"
	"testing"
)

// The environment variables this package reads.
const (
	// PostgresEnv holds a Postgres URL whose user may create schemas and roles.
	PostgresEnv = "BLUEPOINT_TEST_POSTGRES"
	// NATSEnv holds the URL of a NATS server with JetStream enabled.
	NATSEnv = "BLUEPOINT_TEST_NATS"
	// RequireEnv set to 1 turns a missing service into a test failure.
	RequireEnv = "BLUEPOINT_TEST_REQUIRE"
)

// Postgres returns the URL in BLUEPOINT_TEST_POSTGRES, or skips the test when
// it is unset (fails it when BLUEPOINT_TEST_REQUIRE=1).
func Postgres(t testing.TB) string {
	t.Helper()
	return lookup(t, PostgresEnv)
}

// NATS returns the URL in BLUEPOINT_TEST_NATS, or skips the test when it is
// unset (fails it when BLUEPOINT_TEST_REQUIRE=1).
func NATS(t testing.TB) string {
	t.Helper()
	return lookup(t, NATSEnv)
}

// Required reports whether BLUEPOINT_TEST_REQUIRE=1, that is whether a
// missing service must fail the test rather than skip it.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

func lookup(t testing.TB, name string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	if Required() {
		t.Fatalf("%s is not set and %s=1: this test must run", name, RequireEnv)
	} else {
		t.Skipf("%s is not set: skipping (set it to run this test)", name)
	}
	return ""
}
