package cli

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/bluepoint/bluepoint/internal/config"
)

// configFlags are the flags that fill config.Config. Each field has the name
// of the Config field it sets, so an error about a Config field can name the
// flag and variable the user should change (see describeField).
type configFlags struct {
	DataDir           string        `name:"data-dir" env:"BLUEPOINT_DATA_DIR" default:"${default_data_dir}" placeholder:"DIR" help:"Directory for local state (the embedded SQLite database). Default: ${default}."`
	Listen            string        `name:"listen" env:"BLUEPOINT_LISTEN" default:"${default_listen}" placeholder:"HOST:PORT" help:"HTTP listen address. Default: ${default}."`
	DatabaseURL       string        `name:"database-url" env:"BLUEPOINT_DATABASE_URL" placeholder:"URL" help:"postgres:// URL of the event store. Default: empty, the SQLite file <data-dir>/bluepoint.db."`
	DatabaseSchema    string        `name:"database-schema" env:"BLUEPOINT_DATABASE_SCHEMA" default:"${default_database_schema}" placeholder:"NAME" help:"Postgres schema holding Bluepoint's tables. Default: ${default}."`
	AppRole           string        `name:"app-role" env:"BLUEPOINT_APP_ROLE" default:"${default_app_role}" placeholder:"ROLE" help:"Least-privilege Postgres role the service runs as. Default: ${default}."`
	SQLiteSynchronous string        `name:"sqlite-synchronous" env:"BLUEPOINT_SQLITE_SYNCHRONOUS" default:"${default_sqlite_synchronous}" placeholder:"MODE" help:"SQLite synchronous pragma: ${sqlite_synchronous_modes}. Default: ${default}."`
	LogLevel          string        `name:"log-level" env:"BLUEPOINT_LOG_LEVEL" default:"${default_log_level}" placeholder:"LEVEL" help:"Minimum log level: ${log_levels}. Default: ${default}."`
	ShutdownTimeout   time.Duration `name:"shutdown-timeout" env:"BLUEPOINT_SHUTDOWN_TIMEOUT" default:"${default_shutdown_timeout}" placeholder:"DURATION" help:"How long a graceful shutdown waits for in-flight requests. Default: ${default}."`
	SecretsDir        string        `name:"secrets-dir" env:"BLUEPOINT_SECRETS_DIR" placeholder:"DIR" help:"Directory of the keys created on first start (master key, encounter signing key). Default: <data-dir>/secrets."`
	ReadDatabaseURL   string        `name:"read-database-url" env:"BLUEPOINT_READ_DATABASE_URL" placeholder:"URL" help:"postgres:// URL of a database for the read models. Default: empty, beside the events (<data-dir>/readmodels.db, or the schema <database-schema>_read)."`
	NATSURL           string        `name:"nats-url" env:"BLUEPOINT_NATS_URL" placeholder:"URL" help:"nats:// URL(s) of an external NATS JetStream server or cluster. Default: empty, an embedded server with its store in <data-dir>/nats."`
	NATSListen        string        `name:"nats-listen" env:"BLUEPOINT_NATS_LISTEN" placeholder:"HOST:PORT" help:"Let the embedded NATS server accept clients on this address. Default: empty, no port."`
	StreamPrefix      string        `name:"stream-prefix" env:"BLUEPOINT_STREAM_PREFIX" placeholder:"PREFIX" help:"Prefix of stream names and subjects, for deployments that share one NATS cluster. Default: none."`
	StreamMaxAge      time.Duration `name:"stream-max-age" env:"BLUEPOINT_STREAM_MAX_AGE" placeholder:"DURATION" help:"How long the streams keep events. Default: 0, forever, so any consumer can replay from the start."`
	SinksFile         string        `name:"config" env:"BLUEPOINT_CONFIG" placeholder:"FILE" help:"bluepoint.yaml declaring sinks and automations. Default: empty, none."`
	TraceRetention    time.Duration `name:"trace-retention" env:"BLUEPOINT_TRACE_RETENTION" default:"${default_trace_retention}" placeholder:"DURATION" help:"How long trace steps are kept; 0 keeps them forever. Default: ${default}."`
	HashConcurrency   int           `name:"hash-concurrency" env:"BLUEPOINT_HASH_CONCURRENCY" placeholder:"N" help:"How many password hashes (argon2id, 19 MiB each) run at once. Default: 0, half the CPUs (at least one)."`
	StateCacheSize    int           `name:"state-cache-size" env:"BLUEPOINT_STATE_CACHE_SIZE" default:"${default_state_cache_size}" placeholder:"N" help:"How many aggregate states the command pipeline keeps in memory, so that a command reads only the events appended since; 0 keeps none. Default: ${default}."`
	MasterKey         string        `name:"master-key" env:"BLUEPOINT_MASTER_KEY" placeholder:"BASE64" help:"Master key (base64 of 32 bytes) protecting personal data; prefer the environment variable. Default: read or create <secrets-dir>/master.key."`
}

// defaultVars feeds the defaults and allowed values of package config into
// the flag tags, so help text and config never disagree.
func defaultVars() kong.Vars {
	return kong.Vars{
		"default_data_dir":           config.DefaultDataDir,
		"default_listen":             config.DefaultListen,
		"default_database_schema":    config.DefaultDatabaseSchema,
		"default_app_role":           config.DefaultAppRole,
		"default_sqlite_synchronous": config.DefaultSQLiteSynchronous,
		"default_log_level":          config.DefaultLogLevel,
		"default_shutdown_timeout":   config.DefaultShutdownTimeout.String(),
		"default_trace_retention":    config.DefaultTraceRetention.String(),
		"default_state_cache_size":   strconv.Itoa(config.DefaultStateCacheSize),
		"default_memory_limit":       defaultMemoryLimit,
		"sqlite_synchronous_modes":   strings.Join(config.SQLiteSynchronousModes(), ", "),
		"log_levels":                 strings.Join(config.LogLevels(), ", "),
	}
}

// config returns the validated configuration the flags describe.
func (f configFlags) config() (config.Config, error) {
	cfg := config.Config{
		DataDir:           f.DataDir,
		Listen:            f.Listen,
		DatabaseURL:       f.DatabaseURL,
		DatabaseSchema:    f.DatabaseSchema,
		AppRole:           f.AppRole,
		SQLiteSynchronous: f.SQLiteSynchronous,
		LogLevel:          f.LogLevel,
		ShutdownTimeout:   f.ShutdownTimeout,
		SecretsDir:        f.SecretsDir,
		NATSURL:           f.NATSURL,
		ReadDatabaseURL:   f.ReadDatabaseURL,
		NATSListen:        f.NATSListen,
		SinksFile:         f.SinksFile,
		StreamMaxAge:      f.StreamMaxAge,
		StreamPrefix:      f.StreamPrefix,
		MasterKey:         f.MasterKey,
		StateCacheSize:    f.StateCacheSize,
		TraceRetention:    f.TraceRetention,
		HashConcurrency:   f.HashConcurrency,
	}
	if f.TraceRetention == 0 {
		cfg.TraceRetention = -1 // 0 on the command line keeps them forever
	}
	if f.StateCacheSize == 0 {
		cfg.StateCacheSize = -1 // 0 on the command line keeps none
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return config.Config{}, &usageError{err: fmt.Errorf("invalid configuration:\n%s", describeErrors(err))}
	}
	return cfg, nil
}

// describeErrors lists each *config.FieldError on a line of its own, named
// by the flag and environment variable that set the field.
func describeErrors(err error) string {
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	lines := make([]string, 0, len(errs))
	for _, e := range errs {
		var fe *config.FieldError
		if errors.As(e, &fe) {
			lines = append(lines, "  "+describeField(fe.Field)+": "+fe.Problem)
		} else {
			lines = append(lines, "  "+e.Error())
		}
	}
	return strings.Join(lines, "\n")
}

// describeField returns "--flag (ENV_VAR)" for a Config field name.
func describeField(field string) string {
	sf, ok := reflect.TypeFor[configFlags]().FieldByName(field)
	if !ok {
		return field
	}
	return fmt.Sprintf("--%s (%s)", sf.Tag.Get("name"), sf.Tag.Get("env"))
}
