package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bluepoint/bluepoint/internal/app"
	"github.com/bluepoint/bluepoint/internal/demo"
	"github.com/bluepoint/bluepoint/internal/domain/account"
)

// demoCmd loads the demo data set into the store the flags select.
type demoCmd struct {
	configFlags
	// The defaults repeat demo.DefaultAccounts and demo.DefaultTransactions;
	// a test keeps them equal.
	Accounts     int    `name:"accounts" default:"500" placeholder:"N" help:"How many accounts to open (at least 10). Default: ${default}."`
	Transactions int    `name:"transactions" default:"10000" placeholder:"N" help:"How many transactions to record over the simulated year. Default: ${default}."`
	Seed         uint64 `name:"seed" default:"1" placeholder:"N" help:"Picks the story the demo tells; one seed always tells the same. Default: ${default}."`
}

// Run loads the demo with a progress count on Stderr and prints the logins
// on Stdout. A store that has the demo already only gets its logins printed.
func (c *demoCmd) Run(ctx context.Context, p *Program) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	drawn := false
	bar := progress(p.Stderr, "loading demo data")
	res, err := app.Demo(ctx, app.DemoParams{Config: cfg, Accounts: c.Accounts, Transactions: c.Transactions, Seed: c.Seed,
		Progress: func(done, total int) {
			drawn = done < total
			bar(done, total)
		}}, newLogger(p.Stderr, cfg))
	if drawn {
		fmt.Fprintln(p.Stderr) // the error goes on a line of its own
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return printDemo(p.Stdout, res)
}

// loadDemo is serve --demo: it loads the demo into the running app, or
// finds it there, and prints the logins. Progress goes to the log, since
// serve's Stderr is the JSON log. A load cut short by shutdown is not an
// error: the next start reports it.
func loadDemo(ctx context.Context, a *app.App, out io.Writer, logger *slog.Logger) error {
	next := 0
	res, err := a.LoadDemo(ctx, func(done, total int) {
		if pct := 100 * done / total; pct >= next {
			logger.Info("loading demo data", "done", done, "total", total, "percent", pct)
			next = pct/10*10 + 10
		}
	})
	if err != nil && ctx.Err() != nil {
		logger.Warn("demo load interrupted by shutdown", "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("load demo: %w", err)
	}
	return printDemo(out, res)
}

// printDemo tells what a load did and how to sign in.
func printDemo(w io.Writer, res demo.Result) error {
	if res.Loaded {
		fmt.Fprintf(w, "Loaded the demo data: %d accounts (%s), %d transactions (%s), %d accounts closed, from %s to %s.\n",
			res.TotalAccounts(), countKinds(res), res.TotalTransactions(), countTransactions(res), res.Closed,
			res.From.Format(time.DateOnly), res.To.Format(time.DateOnly))
	} else {
		fmt.Fprintln(w, "The demo data is already loaded.")
	}
	fmt.Fprintf(w, "\nSign in as any of these demo accounts with the password %q:\n\n", res.Password)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  KIND\tEMAIL\tNAME\tID")
	for _, l := range res.Logins {
		id := l.ID
		if id == "" {
			id = "(can no longer sign in)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", l.Kind, l.Email, l.Name, id)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\nThe password is public: never put real people's data in a demo installation.")
	return err
}

func countKinds(res demo.Result) string {
	var parts []string
	for _, k := range account.Kinds {
		parts = append(parts, fmt.Sprintf("%d %s", res.Accounts[k], k))
	}
	return strings.Join(parts, ", ")
}

func countTransactions(res demo.Result) string {
	var parts []string
	for _, k := range []string{demo.Interaction, demo.Donation, demo.Giveaway, demo.Redemption} {
		parts = append(parts, fmt.Sprintf("%d %ss", res.Transactions[k], k))
	}
	return strings.Join(parts, ", ")
}
