package cli

import (
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/config"
)

// parseServe parses args as the serve command and returns its configuration.
func parseServe(t *testing.T, args ...string) (config.Config, error) {
	t.Helper()
	var cl commandLine
	parser, err := Program{Stdout: io.Discard, Stderr: io.Discard}.parser(&cl)
	if err != nil {
		t.Fatalf("build parser: %v", err)
	}
	if _, err := parser.Parse(append([]string{"serve"}, args...)); err != nil {
		return config.Config{}, err
	}
	return cl.Serve.config()
}

// clearEnv unsets every variable the command line reads, so the tests do not
// depend on the environment they run in.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, name := range []string{
		"BLUEPOINT_DATA_DIR", "BLUEPOINT_LISTEN", "BLUEPOINT_DATABASE_URL", "BLUEPOINT_DATABASE_SCHEMA",
		"BLUEPOINT_APP_ROLE", "BLUEPOINT_SQLITE_SYNCHRONOUS", "BLUEPOINT_LOG_LEVEL", "BLUEPOINT_SHUTDOWN_TIMEOUT",
		"BLUEPOINT_APP_PASSWORD", "BLUEPOINT_SECRETS_DIR", "BLUEPOINT_MASTER_KEY",
		"BLUEPOINT_NATS_URL", "BLUEPOINT_NATS_LISTEN", "BLUEPOINT_CONFIG", "BLUEPOINT_STREAM_MAX_AGE", "BLUEPOINT_READ_DATABASE_URL",
		"BLUEPOINT_HASH_CONCURRENCY",
	} {
		t.Setenv(name, "") // restores the variable after the test
		if err := os.Unsetenv(name); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFlagDefaultsMatchConfig(t *testing.T) {
	clearEnv(t)
	got, err := parseServe(t)
	if err != nil {
		t.Fatal(err)
	}
	if want := (config.Config{}).WithDefaults(); got != want {
		t.Fatalf("no flags gave %+v, want config defaults %+v", got, want)
	}
}

var everyField = config.Config{
	DataDir:           "/srv/bluepoint",
	Listen:            "0.0.0.0:9090",
	DatabaseURL:       "postgres://u@db:5432/bp",
	DatabaseSchema:    "bp_test",
	AppRole:           "bp_role",
	SQLiteSynchronous: "NORMAL",
	LogLevel:          "debug",
	ShutdownTimeout:   3 * time.Second,
	SecretsDir:        "/run/secrets/bp",
	MasterKey:         "a2V5",
	NATSURL:           "nats://n1:4222,nats://n2:4222",
	NATSListen:        "127.0.0.1:4333",
	SinksFile:         "/etc/bluepoint.yaml",
	StreamMaxAge:      720 * time.Hour,
	ReadDatabaseURL:   "postgres://u@read:5432/bp",
	StateCacheSize:    500,
	TraceRetention:    48 * time.Hour,
	HashConcurrency:   3,
}

func TestFlagsSetEveryField(t *testing.T) {
	clearEnv(t)
	got, err := parseServe(t,
		"--data-dir", "/srv/bluepoint", "--listen", "0.0.0.0:9090",
		"--database-url", "postgres://u@db:5432/bp", "--database-schema", "bp_test",
		"--app-role", "bp_role", "--sqlite-synchronous", "NORMAL", "--log-level", "debug",
		"--shutdown-timeout", "3s", "--secrets-dir", "/run/secrets/bp", "--master-key", "a2V5",
		"--nats-url", "nats://n1:4222,nats://n2:4222", "--nats-listen", "127.0.0.1:4333", "--config", "/etc/bluepoint.yaml", "--stream-max-age", "720h", "--read-database-url", "postgres://u@read:5432/bp",
		"--state-cache-size", "500", "--trace-retention", "48h", "--hash-concurrency", "3")
	if err != nil {
		t.Fatal(err)
	}
	if got != everyField {
		t.Fatalf("flags gave %+v, want %+v", got, everyField)
	}
}

func TestEnvSetsEveryField(t *testing.T) {
	clearEnv(t)
	t.Setenv("BLUEPOINT_DATA_DIR", "/srv/bluepoint")
	t.Setenv("BLUEPOINT_LISTEN", "0.0.0.0:9090")
	t.Setenv("BLUEPOINT_DATABASE_URL", "postgres://u@db:5432/bp")
	t.Setenv("BLUEPOINT_DATABASE_SCHEMA", "bp_test")
	t.Setenv("BLUEPOINT_APP_ROLE", "bp_role")
	t.Setenv("BLUEPOINT_SQLITE_SYNCHRONOUS", "NORMAL")
	t.Setenv("BLUEPOINT_LOG_LEVEL", "debug")
	t.Setenv("BLUEPOINT_SHUTDOWN_TIMEOUT", "3s")
	t.Setenv("BLUEPOINT_SECRETS_DIR", "/run/secrets/bp")
	t.Setenv("BLUEPOINT_MASTER_KEY", "a2V5")
	t.Setenv("BLUEPOINT_NATS_URL", "nats://n1:4222,nats://n2:4222")
	t.Setenv("BLUEPOINT_NATS_LISTEN", "127.0.0.1:4333")
	t.Setenv("BLUEPOINT_CONFIG", "/etc/bluepoint.yaml")
	t.Setenv("BLUEPOINT_STREAM_MAX_AGE", "720h")
	t.Setenv("BLUEPOINT_READ_DATABASE_URL", "postgres://u@read:5432/bp")
	t.Setenv("BLUEPOINT_STATE_CACHE_SIZE", "500")
	t.Setenv("BLUEPOINT_TRACE_RETENTION", "48h")
	t.Setenv("BLUEPOINT_HASH_CONCURRENCY", "3")
	got, err := parseServe(t)
	if err != nil {
		t.Fatal(err)
	}
	if got != everyField {
		t.Fatalf("environment gave %+v, want %+v", got, everyField)
	}
}

// The state cache is on by default; 0 turns it off (the pipeline's own
// zero would mean its default).
func TestStateCacheSize(t *testing.T) {
	clearEnv(t)
	for _, c := range []struct {
		args []string
		want int
	}{{nil, config.DefaultStateCacheSize}, {[]string{"--state-cache-size", "0"}, -1}, {[]string{"--state-cache-size", "20"}, 20}} {
		got, err := parseServe(t, c.args...)
		if err != nil || got.StateCacheSize != c.want {
			t.Errorf("%v: state cache size %d (%v), want %d", c.args, got.StateCacheSize, err, c.want)
		}
	}
}

// Trace steps are pruned after a week by default; 0 keeps them forever.
func TestTraceRetention(t *testing.T) {
	clearEnv(t)
	for _, c := range []struct {
		args []string
		want time.Duration
	}{{nil, config.DefaultTraceRetention}, {[]string{"--trace-retention", "0"}, -1}, {[]string{"--trace-retention", "36h"}, 36 * time.Hour}} {
		got, err := parseServe(t, c.args...)
		if err != nil || got.TraceRetention != c.want {
			t.Errorf("%v: trace retention %v (%v), want %v", c.args, got.TraceRetention, err, c.want)
		}
	}
}

func TestFlagOverridesEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("BLUEPOINT_LOG_LEVEL", "debug")
	got, err := parseServe(t, "--log-level", "error")
	if err != nil {
		t.Fatal(err)
	}
	if got.LogLevel != "error" {
		t.Fatalf("LogLevel = %q, want the flag's %q over the environment's", got.LogLevel, "error")
	}
}

// TestEveryConfigFieldHasAFlag keeps configFlags and config.Config in step:
// describeField relies on the two having the same field names.
func TestEveryConfigFieldHasAFlag(t *testing.T) {
	cfgType, flagType := reflect.TypeFor[config.Config](), reflect.TypeFor[configFlags]()
	if cfgType.NumField() != flagType.NumField() {
		t.Fatalf("config.Config has %d fields, configFlags %d", cfgType.NumField(), flagType.NumField())
	}
	envName := regexp.MustCompile(`^BLUEPOINT_[A-Z_]+$`)
	for i := range cfgType.NumField() {
		cf := cfgType.Field(i)
		ff, ok := flagType.FieldByName(cf.Name)
		if !ok || ff.Type != cf.Type {
			t.Errorf("config.Config.%s (%s) has no configFlags field of that name and type", cf.Name, cf.Type)
			continue
		}
		name, env := ff.Tag.Get("name"), ff.Tag.Get("env")
		if want := "BLUEPOINT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")); env != want || !envName.MatchString(env) {
			t.Errorf("flag --%s reads %q, want %q", name, env, want)
		}
	}
}
