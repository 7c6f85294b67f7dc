package config_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/config"
)

func TestWithDefaults(t *testing.T) {
	got := config.Config{}.WithDefaults()
	want := config.Config{
		DataDir:           "./data",
		Listen:            "127.0.0.1:8080",
		DatabaseURL:       "",
		DatabaseSchema:    "bluepoint",
		AppRole:           "bluepoint_app",
		SQLiteSynchronous: "FULL",
		LogLevel:          "info",
		ShutdownTimeout:   10 * time.Second,
		SecretsDir:        filepath.Join("./data", "secrets"),
		StateCacheSize:    10_000,
		TraceRetention:    7 * 24 * time.Hour,
	}
	if got != want {
		t.Fatalf("WithDefaults() = %+v, want %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestWithDefaultsKeepsSetFields(t *testing.T) {
	set := config.Config{
		DataDir:           "/srv/bp",
		Listen:            ":9000",
		DatabaseURL:       "postgres://u@h/db",
		DatabaseSchema:    "s",
		AppRole:           "r",
		SQLiteSynchronous: "NORMAL",
		LogLevel:          "debug",
		ShutdownTimeout:   time.Second,
		SecretsDir:        "/run/secrets/bp",
		MasterKey:         "a2V5",
		NATSURL:           "nats://n:4222",
		NATSListen:        "127.0.0.1:4333",
		SinksFile:         "b.yaml",
		StreamMaxAge:      time.Hour,
		ReadDatabaseURL:   "postgres://r/db",
		StateCacheSize:    -1,
		TraceRetention:    -1,
		HashConcurrency:   3,
	}
	if got := set.WithDefaults(); got != set {
		t.Fatalf("WithDefaults() = %+v, want %+v unchanged", got, set)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*config.Config)
		fields []string // the fields the error must name; none means valid
	}{
		{"defaults", func(*config.Config) {}, nil},
		{"postgres url", func(c *config.Config) { c.DatabaseURL = "postgres://u:p@h:5432/db?sslmode=disable" }, nil},
		{"postgresql url", func(c *config.Config) { c.DatabaseURL = "postgresql://h/db" }, nil},
		{"normal synchronous", func(c *config.Config) { c.SQLiteSynchronous = "NORMAL" }, nil},
		{"any port", func(c *config.Config) { c.Listen = ":0" }, nil},
		{"each log level", func(c *config.Config) { c.LogLevel = "warn" }, nil},
		{"empty data dir", func(c *config.Config) { c.DataDir = "" }, []string{"DataDir"}},
		{"listen without port", func(c *config.Config) { c.Listen = "localhost" }, []string{"Listen"}},
		{"mysql url", func(c *config.Config) { c.DatabaseURL = "mysql://h/db" }, []string{"DatabaseURL"}},
		{"url without scheme", func(c *config.Config) { c.DatabaseURL = "h:5432/db" }, []string{"DatabaseURL"}},
		{"empty schema", func(c *config.Config) { c.DatabaseSchema = "" }, []string{"DatabaseSchema"}},
		{"empty app role", func(c *config.Config) { c.AppRole = "" }, []string{"AppRole"}},
		{"lower-case synchronous", func(c *config.Config) { c.SQLiteSynchronous = "full" }, []string{"SQLiteSynchronous"}},
		{"synchronous off", func(c *config.Config) { c.SQLiteSynchronous = "OFF" }, []string{"SQLiteSynchronous"}},
		{"unknown log level", func(c *config.Config) { c.LogLevel = "trace" }, []string{"LogLevel"}},
		{"zero shutdown timeout", func(c *config.Config) { c.ShutdownTimeout = 0 }, []string{"ShutdownTimeout"}},
		{"negative shutdown timeout", func(c *config.Config) { c.ShutdownTimeout = -time.Second }, []string{"ShutdownTimeout"}},
		{"several at once", func(c *config.Config) { c.LogLevel = "x"; c.Listen = "x" }, []string{"Listen", "LogLevel"}},
		{"nats cluster", func(c *config.Config) { c.NATSURL = "nats://a:4222, nats://b:4222" }, nil},
		{"nats url of another scheme", func(c *config.Config) { c.NATSURL = "http://a:4222" }, []string{"NATSURL"}},
		{"nats listen without port", func(c *config.Config) { c.NATSListen = "localhost" }, []string{"NATSListen"}},
		{"empty secrets dir", func(c *config.Config) { c.SecretsDir = "" }, []string{"SecretsDir"}},
		{"read database of another kind", func(c *config.Config) { c.ReadDatabaseURL = "mysql://r/db" }, []string{"ReadDatabaseURL"}},
		{"negative stream age", func(c *config.Config) { c.StreamMaxAge = -time.Hour }, []string{"StreamMaxAge"}},
		{"hash concurrency set", func(c *config.Config) { c.HashConcurrency = 4 }, nil},
		{"negative hash concurrency", func(c *config.Config) { c.HashConcurrency = -1 }, []string{"HashConcurrency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Config{}.WithDefaults()
			tt.modify(&c)
			err := c.Validate()
			if len(tt.fields) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %v", tt.fields)
			}
			var fe *config.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v, want a *FieldError inside", err)
			}
			for _, f := range tt.fields {
				if !strings.Contains(err.Error(), f+": ") {
					t.Errorf("Validate() = %q, want it to name %s", err, f)
				}
			}
		})
	}
}

func TestValidateDoesNotEchoDatabaseURL(t *testing.T) {
	c := config.Config{DatabaseURL: "mysql://user:s3cret@h/db"}.WithDefaults()
	err := c.Validate()
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Validate() = %v, want an error without the password", err)
	}
}

func TestSQLitePath(t *testing.T) {
	c := config.Config{DataDir: "some/dir"}
	if got, want := c.SQLitePath(), filepath.Join("some/dir", "bluepoint.db"); got != want {
		t.Fatalf("SQLitePath() = %q, want %q", got, want)
	}
	if !c.UsesSQLite() {
		t.Fatal("UsesSQLite() = false with no DatabaseURL")
	}
	c.DatabaseURL = "postgres://h/db"
	if c.UsesSQLite() {
		t.Fatal("UsesSQLite() = true with a DatabaseURL")
	}
}
