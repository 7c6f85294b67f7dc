package app

import (
	"context"
	"fmt"
	"os"

	"github.com/bluepoint/bluepoint/internal/config"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/sqlite"
)

// dataDirPerm keeps local state private to the service's user and group.
const dataDirPerm = 0o750

// openStore opens the driver cfg selects; both drivers migrate on open.
func openStore(ctx context.Context, cfg config.Config) (eventstore.Store, error) {
	if cfg.UsesSQLite() {
		if err := os.MkdirAll(cfg.DataDir, dataDirPerm); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		s, err := sqlite.Open(ctx, sqlite.Config{Path: cfg.SQLitePath(), Synchronous: cfg.SQLiteSynchronous})
		if err != nil {
			return nil, fmt.Errorf("open sqlite event store %s: %w", cfg.SQLitePath(), err)
		}
		return s, nil
	}
	s, err := postgres.Open(ctx, postgres.Config{URL: cfg.DatabaseURL, Schema: cfg.DatabaseSchema, AppRole: cfg.AppRole})
	if err != nil {
		return nil, fmt.Errorf("open postgres event store (schema %s): %w", cfg.DatabaseSchema, err)
	}
	return s, nil
}

// storeAttrs describe the store cfg selects in log records, without the
// URL (it may hold a password).
func storeAttrs(cfg config.Config) []any {
	if cfg.UsesSQLite() {
		return []any{"driver", "sqlite", "path", cfg.SQLitePath(), "synchronous", cfg.SQLiteSynchronous}
	}
	return []any{"driver", "postgres", "schema", cfg.DatabaseSchema, "role", cfg.AppRole}
}

// MigrateParams says what Migrate works on.
type MigrateParams struct {
	Config config.Config
	// AppPassword is the password given to Config.AppRole (Postgres only).
	AppPassword string
}

// Migrate brings the event store's schema up to date and returns a one-line
// summary of what it did. On Postgres it runs as the connecting user, who
// owns the schema, and sets up the application role; on SQLite opening the
// store migrates it.
func Migrate(ctx context.Context, p MigrateParams) (string, error) {
	cfg := p.Config
	if cfg.UsesSQLite() {
		s, err := openStore(ctx, cfg)
		if err != nil {
			return "", err
		}
		if err := s.Close(); err != nil {
			return "", fmt.Errorf("close event store: %w", err)
		}
		return fmt.Sprintf("migrated sqlite event store %s", cfg.SQLitePath()), nil
	}
	err := postgres.Migrate(ctx, postgres.MigrateParams{
		URL:         cfg.DatabaseURL,
		Schema:      cfg.DatabaseSchema,
		AppRole:     cfg.AppRole,
		AppPassword: p.AppPassword,
	})
	if err != nil {
		return "", fmt.Errorf("migrate postgres schema %s: %w", cfg.DatabaseSchema, err)
	}
	return fmt.Sprintf("migrated postgres schema %s (application role %s)", cfg.DatabaseSchema, cfg.AppRole), nil
}
