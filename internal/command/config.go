package command

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults of Config.
const (
	// DefaultMaxRetries bounds the retries after a version conflict. A handful
	// is plenty for ordinary contention; a command still conflicting after that
	// is better reported than retried forever.
	DefaultMaxRetries = 5
	// DefaultRetryBackoff is the ceiling of the random wait before the first
	// retry: long enough to let the winner's transaction finish, short enough
	// to be invisible to a client.
	DefaultRetryBackoff = 2 * time.Millisecond
	// DefaultStateCacheSize is how many folded aggregate states a pipeline
	// keeps. An account's state with its cache entry is about a kilobyte
	// (its personal fields sealed), so a full cache costs some ten megabytes
	// and holds every account active at any one time on a busy deployment.
	DefaultStateCacheSize = 10_000
)

// maxBackoffDoublings caps the growth of the retry wait at 64 x RetryBackoff.
const maxBackoffDoublings = 6

// Config tunes a Pipeline. The zero value is ready to use: WithDefaults fills
// every unset field.
type Config struct {
	// MaxRetries is how many times a command runs again after losing a race
	// for a stream (a version conflict) before the conflict is returned.
	// Default DefaultMaxRetries (5); a negative value disables retries.
	MaxRetries int
	// RetryBackoff is the ceiling of the random wait before the first retry;
	// the ceiling doubles with each retry, up to 64 times this value. The
	// randomness spreads competing commands apart. Default
	// DefaultRetryBackoff (2ms).
	RetryBackoff time.Duration
	// Now stamps the trace steps the pipeline records. Default time.Now.
	Now func() time.Time
	// Logger reports trace steps that could not be recorded; the command's
	// outcome does not depend on them. Default slog.Default().
	Logger *slog.Logger
	// Seal, when set, makes for each attempt of a command the Sealer that
	// rewrites each emitted event before it is encoded. The platform
	// encrypts personal fields with it, so that no handler can forget to.
	// Default: events are encoded as emitted.
	Seal func() Sealer
	// StateCacheSize is how many folded aggregate states the pipeline keeps
	// in memory, least recently used first out, so that loading an aggregate
	// reads only the events appended since it was last loaded instead of
	// its whole stream. Default DefaultStateCacheSize (10,000); a negative
	// value disables the cache.
	StateCacheSize int
}

// WithDefaults returns a copy of c with every unset field at its default.
func (c Config) WithDefaults() Config {
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.StateCacheSize == 0 {
		c.StateCacheSize = DefaultStateCacheSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports a setting that cannot work.
func (c Config) Validate() error {
	if c.RetryBackoff < 0 {
		return fmt.Errorf("command: RetryBackoff %s must not be negative", c.RetryBackoff)
	}
	return nil
}
