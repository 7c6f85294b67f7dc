package stream

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of Config, chosen for a single binary on a laptop.
const (
	// DefaultMaxStore caps the embedded server's file storage.
	DefaultMaxStore int64 = 10 << 30
	// DefaultMaxMemory caps the embedded server's memory storage.
	DefaultMaxMemory int64 = 256 << 20
	// DefaultDuplicateWindow is how long JetStream remembers message ids. It
	// must exceed the server's sync interval (2 minutes by default): after an
	// unclean stop the relay re-publishes what the stream may have lost, and
	// the copies that did survive must still be recognised as duplicates.
	DefaultDuplicateWindow = 10 * time.Minute
	// DefaultSource is the CloudEvents source of published events.
	DefaultSource = "bluepoint"
)

// Config says where the streams live and how they are kept.
type Config struct {
	// URL of an external NATS server or cluster. Empty (the default) starts
	// an embedded JetStream server in-process.
	URL string
	// StoreDir is the embedded server's JetStream directory; required when
	// URL is empty, ignored otherwise.
	StoreDir string
	// Listen is the embedded server's client address ("host:port"; port 0
	// picks a free one). Empty (the default) opens no port at all: the broker
	// talks to its server through an in-process connection.
	Listen string
	// Prefix is prepended to stream names and subjects (default none). It lets
	// several independent sets of streams share one server, as tests do.
	Prefix string
	// MaxAge is the streams' retention. Zero (the default) keeps everything,
	// so any consumer can replay from the start.
	MaxAge time.Duration
	// MaxStore is the embedded server's JetStreamMaxStore; 0 means
	// DefaultMaxStore (10 GiB).
	MaxStore int64
	// MaxMemory is the embedded server's JetStreamMaxMemory; 0 means
	// DefaultMaxMemory (256 MiB).
	MaxMemory int64
	// DuplicateWindow is the streams' dedupe window; 0 means
	// DefaultDuplicateWindow (10 minutes).
	DuplicateWindow time.Duration
	// Replicas of each stream; 0 means 1. More need a cluster.
	Replicas int
	// Source is the CloudEvents source of published events; empty means
	// DefaultSource ("bluepoint").
	Source string
}

// WithDefaults returns the config with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.MaxStore == 0 {
		c.MaxStore = DefaultMaxStore
	}
	if c.MaxMemory == 0 {
		c.MaxMemory = DefaultMaxMemory
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Source == "" {
		c.Source = DefaultSource
	}
	return c
}

// Validate reports the first problem of a config (after WithDefaults).
func (c Config) Validate() error {
	switch {
	case c.URL == "" && c.StoreDir == "":
		return errors.New("stream: StoreDir is required for the embedded server")
	case c.MaxAge < 0:
		return fmt.Errorf("stream: MaxAge %s is negative", c.MaxAge)
	case c.MaxStore < 0 || c.MaxMemory < 0:
		return errors.New("stream: MaxStore and MaxMemory must not be negative")
	case c.DuplicateWindow < 0:
		return fmt.Errorf("stream: DuplicateWindow %s is negative", c.DuplicateWindow)
	case c.MaxAge > 0 && c.DuplicateWindow > c.MaxAge:
		return fmt.Errorf("stream: DuplicateWindow %s exceeds MaxAge %s", c.DuplicateWindow, c.MaxAge)
	case c.Replicas < 1 || c.Replicas > 5:
		return fmt.Errorf("stream: Replicas %d is not between 1 and 5", c.Replicas)
	}
	if c.Prefix != "" {
		if err := checkToken("Prefix", c.Prefix); err != nil {
			return err
		}
	}
	return nil
}
