package cli

import (
	"context"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/app"
)

// migrateCmd prepares the database, so serve can run as a role without
// the right to change the schema.
type migrateCmd struct {
	configFlags
	AppPassword string `name:"app-password" env:"BLUEPOINT_APP_PASSWORD" placeholder:"PASSWORD" help:"Password set for --app-role (Postgres only)."`
}

// Run migrates the store and prints what it did on Stdout.
func (c *migrateCmd) Run(ctx context.Context, p *Program) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	summary, err := app.Migrate(ctx, app.MigrateParams{Config: cfg, AppPassword: c.AppPassword})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := fmt.Fprintln(p.Stdout, summary); err != nil {
		return fmt.Errorf("print summary: %w", err)
	}
	return nil
}
