package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/app"
	"github.com/bluepoint/bluepoint/internal/config"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// newStore returns the configuration of a store of its own: a fresh data
// directory, and on Postgres a fresh schema, application role and stream
// prefix, all removed when the run ends. With staff it also creates a
// staff account and returns its login.
func (r *runner) newStore(ctx context.Context, name string, staff bool) (config.Config, login, error) {
	r.seq++
	cfg := config.Config{DataDir: filepath.Join(r.cfg.TempDir, fmt.Sprintf("%s-%d", name, r.seq)),
		HashConcurrency: r.cfg.HashConcurrency}
	if r.cfg.DatabaseURL != "" {
		id := "bpbench_" + randomHex(5)
		cfg.DatabaseURL, cfg.NATSURL = r.cfg.DatabaseURL, r.cfg.NATSURL
		cfg.DatabaseSchema, cfg.AppRole, cfg.StreamPrefix = id, id+"_app", id+"_"
		r.cleanups = append(r.cleanups, func() { r.dropPostgres(cfg) })
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return cfg, login{}, err
	}
	if !cfg.UsesSQLite() {
		if _, err := app.Migrate(ctx, app.MigrateParams{Config: cfg}); err != nil {
			return cfg, login{}, err
		}
	}
	if !staff {
		return cfg, login{}, nil
	}
	l := login{Email: "bench-staff-" + randomHex(4) + "@example.org", Password: "bench staff " + randomHex(8)}
	id, err := app.CreateStaff(ctx, app.CreateStaffParams{Config: cfg, Name: "Bench staff", Email: l.Email, Password: l.Password},
		slog.New(slog.DiscardHandler))
	if err != nil {
		return cfg, login{}, fmt.Errorf("create staff: %w", err)
	}
	l.ID = id
	return cfg, l, nil
}

// dropPostgres removes a store's schemas, role and streams.
func (r *runner) dropPostgres(cfg config.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		r.logf("clean up %s: %v", cfg.DatabaseSchema, err)
		return
	}
	defer conn.Close(ctx)
	role := pgx.Identifier{cfg.AppRole}.Sanitize()
	for _, stmt := range []string{
		"DROP SCHEMA IF EXISTS " + pgx.Identifier{cfg.DatabaseSchema}.Sanitize() + " CASCADE",
		"DROP SCHEMA IF EXISTS " + pgx.Identifier{postgres.ReadSchema(cfg.DatabaseSchema)}.Sanitize() + " CASCADE",
		"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '" + cfg.AppRole + "') THEN EXECUTE 'DROP OWNED BY " + role + "'; END IF; END $$",
		"DROP ROLE IF EXISTS " + role,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			r.logf("clean up %s: %v", cfg.DatabaseSchema, err)
		}
	}
	if err := stream.DeletePrefixed(ctx, cfg.NATSURL, cfg.StreamPrefix); err != nil {
		r.logf("clean up streams %s*: %v", cfg.StreamPrefix, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
