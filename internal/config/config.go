// Package config holds Bluepoint's runtime configuration: one struct with its
// defaults and validation, so every component receives settled values through
// its constructor instead of reading flags or the environment itself.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Defaults of the fields of Config. They are exported so the CLI and the
// documentation show the same values WithDefaults applies.
const (
	DefaultDataDir           = "./data"
	DefaultListen            = "127.0.0.1:8080"
	DefaultDatabaseSchema    = "bluepoint"
	DefaultAppRole           = "bluepoint_app"
	DefaultSQLiteSynchronous = "FULL"
	DefaultLogLevel          = "info"
	DefaultShutdownTimeout   = 10 * time.Second
	// DefaultStateCacheSize is how many aggregate states the command
	// pipeline keeps: at about a kilobyte each, some ten megabytes.
	DefaultStateCacheSize = 10_000
	// DefaultTraceRetention is how long trace steps are kept: a week of
	// requests to look back on, at a few hundred bytes a step.
	DefaultTraceRetention = 7 * 24 * time.Hour
)

// SQLiteSynchronousModes returns the accepted values of SQLiteSynchronous.
func SQLiteSynchronousModes() []string { return []string{"FULL", "NORMAL"} }

// LogLevels returns the accepted values of LogLevel.
func LogLevels() []string { return []string{"debug", "info", "warn", "error"} }

// SecretsDirName is the default secrets directory inside DataDir.
const SecretsDirName = "secrets"

// SQLiteFileName is the name of the embedded database file inside DataDir.
const SQLiteFileName = "bluepoint.db"

// Config is the configuration of one Bluepoint process.
type Config struct {
	// DataDir is where local state lives (the embedded SQLite database).
	// Default: "./data".
	DataDir string

	// Listen is the HTTP listen address, host:port. Default: "127.0.0.1:8080".
	Listen string

	// DatabaseURL selects the event store. Empty selects the embedded SQLite
	// file <DataDir>/bluepoint.db; otherwise it must be a postgres:// or
	// postgresql:// URL. Default: "" (SQLite).
	DatabaseURL string

	// DatabaseSchema is the Postgres schema holding Bluepoint's tables.
	// Ignored for SQLite. Default: "bluepoint".
	DatabaseSchema string

	// AppRole is the least-privilege Postgres role the service runs as.
	// Ignored for SQLite. Default: "bluepoint_app".
	AppRole string

	// SQLiteSynchronous is SQLite's synchronous pragma: FULL fsyncs every
	// commit, NORMAL trades durability of the last commits on power loss for
	// speed. Ignored for Postgres. Default: "FULL".
	SQLiteSynchronous string

	// LogLevel is the minimum level logged: debug, info, warn or error.
	// Default: "info".
	LogLevel string

	// ShutdownTimeout bounds how long a graceful shutdown waits for
	// in-flight requests. Default: 10s.
	ShutdownTimeout time.Duration

	// SecretsDir holds the keys the service creates on first start (the
	// master key, the encounter signing key). Default: "<DataDir>/secrets".
	SecretsDir string

	// ReadDatabaseURL is where read models live. Empty: beside the events —
	// a separate SQLite file <DataDir>/readmodels.db with the embedded store
	// (so appends and projection writes do not queue behind one writer), or
	// the schema <DatabaseSchema>_read in the event store's Postgres.
	// Otherwise a postgres:// URL of another database. Default: "".
	ReadDatabaseURL string

	// NATSURL selects the stream engine: empty starts an embedded NATS
	// JetStream server in-process (store under DataDir/nats); otherwise a
	// nats:// URL (or several, comma-separated) of an external server or
	// cluster. Default: "".
	NATSURL string

	// NATSListen makes the embedded NATS server accept clients on
	// host:port. Empty: no port, in-process connections only. Ignored with
	// NATSURL. Default: "".
	NATSListen string

	// StreamMaxAge is how long the streams keep events. Zero keeps
	// everything, so any consumer can replay from the start. Default: 0.
	StreamMaxAge time.Duration

	// StreamPrefix is prepended to the names of the streams and their
	// subjects, so that several deployments can share one NATS cluster.
	// Default: "" (none).
	StreamPrefix string

	// SinksFile is the path of bluepoint.yaml, which declares sinks and
	// automations. Empty: none. Default: "".
	SinksFile string

	// StateCacheSize is how many aggregate states the command pipeline keeps
	// in memory, so that a command reads only the events appended to its
	// streams since; negative keeps none. Default: 10,000.
	StateCacheSize int

	// HashConcurrency is how many password hashes (argon2id, 19 MiB and
	// about 30 ms of a CPU each) run at once; 0 means half the CPUs the
	// process may use, at least one. Default: 0.
	HashConcurrency int

	// TraceRetention is how long trace steps are kept before they are
	// pruned; negative keeps them forever. Default: DefaultTraceRetention.
	TraceRetention time.Duration

	// MasterKey, base64 of 32 bytes, wraps every account's data key and keys
	// the email blind index. Empty reads (or first creates) SecretsDir/master.key.
	// Every process of one deployment must use the same key. Default: "".
	MasterKey string
}

// WithDefaults returns a copy of c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.TraceRetention == 0 {
		c.TraceRetention = DefaultTraceRetention
	}
	if c.StateCacheSize == 0 {
		c.StateCacheSize = DefaultStateCacheSize
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.DatabaseSchema == "" {
		c.DatabaseSchema = DefaultDatabaseSchema
	}
	if c.AppRole == "" {
		c.AppRole = DefaultAppRole
	}
	if c.SQLiteSynchronous == "" {
		c.SQLiteSynchronous = DefaultSQLiteSynchronous
	}
	if c.LogLevel == "" {
		c.LogLevel = DefaultLogLevel
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.SecretsDir == "" {
		c.SecretsDir = filepath.Join(c.DataDir, SecretsDirName)
	}
	return c
}

// Validate reports every invalid field of c as a *FieldError, joined with
// errors.Join. Call it on the result of WithDefaults: empty fields are errors
// here.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if c.DataDir == "" {
		bad("DataDir", "must not be empty")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("Listen", "%q is not host:port (%v)", c.Listen, err)
	}
	if c.DatabaseURL != "" && !IsPostgresURL(c.DatabaseURL) {
		// The URL may hold a password: do not echo it.
		bad("DatabaseURL", "must be empty (SQLite) or start with postgres:// or postgresql://")
	}
	if c.DatabaseSchema == "" {
		bad("DatabaseSchema", "must not be empty")
	}
	if c.AppRole == "" {
		bad("AppRole", "must not be empty")
	}
	if !slices.Contains(SQLiteSynchronousModes(), c.SQLiteSynchronous) {
		bad("SQLiteSynchronous", "%q is not one of %s", c.SQLiteSynchronous, strings.Join(SQLiteSynchronousModes(), ", "))
	}
	if !slices.Contains(LogLevels(), c.LogLevel) {
		bad("LogLevel", "%q is not one of %s", c.LogLevel, strings.Join(LogLevels(), ", "))
	}
	if c.ShutdownTimeout <= 0 {
		bad("ShutdownTimeout", "%s is not positive", c.ShutdownTimeout)
	}
	if c.SecretsDir == "" {
		bad("SecretsDir", "must not be empty")
	}
	for _, u := range strings.Split(c.NATSURL, ",") {
		if c.NATSURL != "" && !strings.HasPrefix(strings.TrimSpace(u), "nats://") && !strings.HasPrefix(strings.TrimSpace(u), "tls://") {
			bad("NATSURL", "must be empty (embedded) or nats:// or tls:// URLs")
			break
		}
	}
	if c.ReadDatabaseURL != "" && !IsPostgresURL(c.ReadDatabaseURL) {
		bad("ReadDatabaseURL", "must be empty (beside the events) or start with postgres:// or postgresql://")
	}
	if strings.ContainsFunc(c.StreamPrefix, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}) {
		bad("StreamPrefix", "%q may hold only letters, digits, _ and -", c.StreamPrefix)
	}
	if c.StreamMaxAge < 0 {
		bad("StreamMaxAge", "%s is negative", c.StreamMaxAge)
	}
	if c.HashConcurrency < 0 {
		bad("HashConcurrency", "%d is negative", c.HashConcurrency)
	}
	if c.NATSListen != "" {
		if _, _, err := net.SplitHostPort(c.NATSListen); err != nil {
			bad("NATSListen", "%q is not host:port (%v)", c.NATSListen, err)
		}
	}
	return errors.Join(errs...)
}

// FieldError says which field of Config is invalid and why, so a caller can
// point the user at the flag or variable that set it.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// UsesSQLite reports whether c selects the embedded SQLite store.
func (c Config) UsesSQLite() bool { return c.DatabaseURL == "" }

// ReadModelsPath is the SQLite file of the read models (embedded default).
func (c Config) ReadModelsPath() string { return filepath.Join(c.DataDir, "readmodels.db") }

// NATSStoreDir is where the embedded NATS server keeps its streams.
func (c Config) NATSStoreDir() string { return filepath.Join(c.DataDir, "nats") }

// SQLitePath is the path of the embedded database file.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, SQLiteFileName) }

// IsPostgresURL reports whether url has a scheme the Postgres driver accepts.
func IsPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// SlogLevel returns LogLevel as a slog.Level; an unknown level (which
// Validate rejects) yields info.
func (c Config) SlogLevel() slog.Level {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
