package cli

import (
	"context"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/app"
)

// adminCmd groups the operator's commands.
type adminCmd struct {
	CreateStaff createStaffCmd `cmd:"" name:"create-staff" help:"Create a staff account (a platform operator). Safe while a server runs."`
}

// createStaffCmd creates a staff account in the store the flags select.
type createStaffCmd struct {
	configFlags
	Email    string `name:"email" required:"" placeholder:"EMAIL" help:"The staff member's email, used to sign in."`
	Password string `name:"password" env:"BLUEPOINT_STAFF_PASSWORD" required:"" placeholder:"PASSWORD" help:"The password (8 to 128 characters); prefer the environment variable."`
	Name     string `name:"name" default:"Bluepoint staff" placeholder:"NAME" help:"The staff member's name. Default: ${default}."`
}

// Run creates the account and prints its id.
func (c *createStaffCmd) Run(ctx context.Context, p *Program) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	id, err := app.CreateStaff(ctx, app.CreateStaffParams{Config: cfg, Name: c.Name, Email: c.Email, Password: c.Password},
		newLogger(p.Stderr, cfg))
	if err != nil {
		return fmt.Errorf("create staff: %w", err)
	}
	_, err = fmt.Fprintf(p.Stdout, "created staff account %s (%s)\n", id, c.Email)
	return err
}
