package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/bluepoint/bluepoint/internal/config"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/readmodel/eventlog"
	"github.com/bluepoint/bluepoint/internal/readmodel/features"
	"github.com/bluepoint/bluepoint/internal/readmodel/users"
)

// readModels are the projections every process keeps up to date.
func readModels() []projection.Projection {
	return []projection.Projection{users.Projection{}, features.New(), eventlog.New()}
}

// openReadDB opens the read database cfg selects.
func openReadDB(ctx context.Context, cfg config.Config) (*projection.DB, error) {
	schema := postgres.ReadSchema(cfg.DatabaseSchema)
	switch {
	case cfg.ReadDatabaseURL != "":
		return projection.OpenPostgres(ctx, cfg.ReadDatabaseURL, schema, "")
	case cfg.UsesSQLite():
		return projection.OpenSQLite(cfg.ReadModelsPath())
	default:
		return projection.OpenPostgres(ctx, cfg.DatabaseURL, schema, cfg.AppRole)
	}
}

// startProjections keeps the read models up to date from the streams.
func (a *App) startProjections(ctx context.Context) error {
	db, err := openReadDB(ctx, a.cfg)
	if err != nil {
		return err
	}
	a.stops = append(a.stops, stopFunc(func(context.Context) error { return db.Close() }))
	r, err := projection.New(ctx, projection.Config{DB: db, Store: a.store, Broker: a.broker, Projections: readModels(), Logger: a.logger})
	if err != nil {
		return err
	}
	if err := r.Start(ctx); err != nil {
		return errors.Join(err, r.Stop(ctx))
	}
	a.readDB, a.projections = db, r
	a.stops = append(a.stops, r)
	return nil
}

// ReplayParams says which read model to rebuild.
type ReplayParams struct {
	Config     config.Config
	Projection string
	// Progress is called with the number of events applied so far.
	Progress func(events int)
}

// Replay rebuilds one read model from the event store's global log into new
// tables and swaps them in; a running server keeps serving the old tables
// until the swap, and its live consumer then carries on with the new ones.
func Replay(ctx context.Context, p ReplayParams, logger *slog.Logger) error {
	store, err := openStore(ctx, p.Config)
	if err != nil {
		return err
	}
	defer store.Close()
	db, err := openReadDB(ctx, p.Config)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := projection.New(ctx, projection.Config{DB: db, Store: store, Projections: readModels(), Logger: logger})
	if err != nil {
		return err
	}
	if err := r.Rebuild(ctx, p.Projection, p.Progress); err != nil {
		return fmt.Errorf("replay %s: %w", p.Projection, err)
	}
	return nil
}

// ExportFeaturesParams says what to export.
type ExportFeaturesParams struct {
	Config config.Config
	Format string
	Out    io.Writer
	// Progress is called with the rows written so far.
	Progress func(rows int)
}

// ExportFeatures streams the per-account features data set.
func ExportFeatures(ctx context.Context, p ExportFeaturesParams) (int, error) {
	db, err := openReadDB(ctx, p.Config)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return features.Export(ctx, db, p.Format, p.Out, p.Progress)
}
