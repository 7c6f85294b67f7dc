package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// MigrateParams configures Migrate.
type MigrateParams struct {
	// URL connects as the schema's owner. Required.
	URL string
	// Schema holds Bluepoint's tables. Default "bluepoint".
	Schema string
	// AppRole is the role the service runs as. Default "bluepoint_app".
	AppRole string
	// AppPassword, when set, lets AppRole log in with it, so the service can
	// connect as that role directly rather than switching to it.
	AppPassword string
}

// grants lists what the application role may do. Events are INSERT and
// SELECT only: history cannot be rewritten by the running service.
var grants = []string{
	`GRANT USAGE ON SCHEMA %[1]s TO %[2]s`,
	`GRANT SELECT, INSERT ON %[1]s.events TO %[2]s`,
	`REVOKE UPDATE, DELETE, TRUNCATE ON %[1]s.events FROM %[2]s`,
	`GRANT SELECT, INSERT, UPDATE ON %[1]s.streams TO %[2]s`,
	`GRANT SELECT, INSERT, UPDATE, DELETE ON %[1]s.outbox TO %[2]s`,
	`GRANT SELECT, INSERT, DELETE ON %[1]s.idempotency TO %[2]s`,
	`GRANT SELECT, INSERT, DELETE ON %[1]s.trace_steps TO %[2]s`, // DELETE: pruning old steps
	`GRANT SELECT, INSERT, UPDATE, DELETE ON %[1]s.claims TO %[2]s`,
	`GRANT SELECT, INSERT, UPDATE ON %[1]s.credentials TO %[2]s`,
	`GRANT SELECT, INSERT, UPDATE, DELETE ON %[1]s.data_keys TO %[2]s`,
	`GRANT SELECT ON %[1]s.goose_db_version TO %[2]s`,
	`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %[1]s TO %[2]s`,
}

// Migrate brings the schema up to date as its owner, creates the
// application role if it is missing and grants it exactly what it needs.
// Several processes may run it at once: goose holds an advisory lock.
func Migrate(ctx context.Context, p MigrateParams) error {
	p = p.withDefaults()
	cfg, err := poolConfig(p.URL, p.Schema)
	if err != nil {
		return err
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer pool.Close()
	schema := pgx.Identifier{p.Schema}.Sanitize()
	role := pgx.Identifier{p.AppRole}.Sanitize()
	if _, err := pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema); err != nil && !isCode(err, "42P06") {
		return fmt.Errorf("postgres: create schema %s: %w", p.Schema, err)
	}
	if err := gooseUp(ctx, pool); err != nil {
		return err
	}
	if err := ensureRole(ctx, pool, p.AppRole, p.AppPassword); err != nil {
		return err
	}
	for _, g := range grants {
		if _, err := pool.Exec(ctx, fmt.Sprintf(g, schema, role)); err != nil {
			return fmt.Errorf("postgres: grant to %s: %w", p.AppRole, err)
		}
	}
	// Read models live in a schema of their own where the application role
	// may create tables: projections build and swap generations of their
	// tables, while the event tables stay out of its reach.
	read := pgx.Identifier{ReadSchema(p.Schema)}.Sanitize()
	for _, stmt := range []string{
		`CREATE SCHEMA IF NOT EXISTS ` + read,
		`GRANT USAGE, CREATE ON SCHEMA ` + read + ` TO ` + role,
	} {
		if _, err := pool.Exec(ctx, stmt); err != nil && !isCode(err, "42P06") {
			return fmt.Errorf("postgres: read schema: %w", err)
		}
	}
	return nil
}

// ReadSchema names the schema of the read models beside schema.
func ReadSchema(schema string) string { return schema + "_read" }

func gooseUp(ctx context.Context, pool *pgxpool.Pool) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// ensureRole creates the application role once; concurrent migrations may
// race to create it, and the loser's duplicate_object is not an error.
func ensureRole(ctx context.Context, pool *pgxpool.Pool, role, password string) error {
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, role).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: look up role %s: %w", role, err)
	}
	ident := pgx.Identifier{role}.Sanitize()
	if !exists {
		if _, err := pool.Exec(ctx, `CREATE ROLE `+ident+` NOLOGIN`); err != nil && !isCode(err, "42710") && !isCode(err, "23505") {
			return fmt.Errorf("postgres: create role %s: %w", role, err)
		}
		// The owner must be able to SET ROLE to it; a superuser already can.
		if _, err := pool.Exec(ctx, `GRANT `+ident+` TO CURRENT_USER`); err != nil && !isCode(err, "42501") && !isCode(err, "0LP01") {
			return fmt.Errorf("postgres: grant role %s to the owner: %w", role, err)
		}
	}
	if password != "" {
		var stmt string
		if err := pool.QueryRow(ctx, `SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)`, role, password).Scan(&stmt); err != nil {
			return fmt.Errorf("postgres: prepare password of %s: %w", role, err)
		}
		if _, err := pool.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("postgres: set password of %s: %w", role, err)
		}
	}
	return nil
}

func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

func (p MigrateParams) withDefaults() MigrateParams {
	if p.Schema == "" {
		p.Schema = DefaultSchema
	}
	if p.AppRole == "" {
		p.AppRole = DefaultAppRole
	}
	return p
}

// hasPending reports whether the schema lacks migrations this binary has.
func hasPending(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return false, fmt.Errorf("postgres: migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err != nil {
		return false, fmt.Errorf("postgres: migrations: %w", err)
	}
	pending, err := provider.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: check migrations: %w", err)
	}
	return pending, nil
}
