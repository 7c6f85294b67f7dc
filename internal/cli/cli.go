// Package cli is Bluepoint's command line: it parses flags and environment
// variables into a config.Config and runs a command with it. It is the only
// place that reads either, so the rest of the system receives its
// configuration explicitly. main stays a few lines long and the whole command
// line can be tested in-process through Program.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

// Exit codes of Main.
const (
	// ExitOK means the command succeeded.
	ExitOK = 0
	// ExitFailure means the command ran and failed.
	ExitFailure = 1
	// ExitUsage means the command line or configuration is invalid.
	ExitUsage = 2
)

// Program is one invocation of the command line: where its output goes and
// the version it reports.
type Program struct {
	// Version is the release version set at link time; empty falls back to
	// the VCS revision recorded in the build.
	Version string
	// Stdout receives command output (help, version, migrate's summary).
	Stdout io.Writer
	// Stderr receives errors and, for serve, the JSON log.
	Stderr io.Writer
}

// commandLine is the grammar kong parses.
type commandLine struct {
	Serve   serveCmd   `cmd:"" help:"Run the HTTP server until SIGINT or SIGTERM."`
	Migrate migrateCmd `cmd:"" help:"Create or upgrade the event store's schema, then exit."`
	Admin   adminCmd   `cmd:"" help:"Operator commands (create-staff)."`
	DLQ     dlqCmd     `cmd:"" name:"dlq" help:"Inspect and redrive the dead-letter stream."`
	Archive archiveCmd `cmd:"" help:"Archive commands (verify)."`
	Replay  replayCmd  `cmd:"" help:"Rebuild a read model from the event store, then swap it in."`
	Export  exportCmd  `cmd:"" help:"Export data sets (features)."`
	Demo    demoCmd    `cmd:"" help:"Load a year of demo data (every kind of account, transactions, closures) and print logins."`
	OpenAPI openapiCmd `cmd:"" name:"openapi" help:"Print the REST API's OpenAPI 3.1 document."`
	Bench   benchCmd   `cmd:"" help:"Measure this binary end to end against raw SQL baselines, and write a report."`
	Version versionCmd `cmd:"" help:"Print the version and exit."`
}

// Main runs args (without the program name) until the command finishes or,
// for serve, until SIGINT or SIGTERM, and returns the process exit code.
func (p Program) Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return p.Run(ctx, args)
}

// Run is Main with the caller's context in place of the signal handling:
// cancelling ctx stops serve as a signal would.
func (p Program) Run(ctx context.Context, args []string) (code int) {
	// kong calls its exit function after printing help; unwind to here
	// instead of ending the process, so Run can be called from tests.
	defer func() {
		if r := recover(); r != nil {
			exit, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			code = int(exit)
		}
	}()
	parser, err := p.parser(&commandLine{})
	if err != nil {
		return p.fail(fmt.Errorf("build the command line: %w", err))
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		return p.fail(&usageError{err: fmt.Errorf("%w (see bluepoint --help)", err)})
	}
	kctx.BindTo(ctx, (*context.Context)(nil))
	err = kctx.Run(&p)
	return p.fail(err)
}

// parser returns the kong parser filling cl.
func (p Program) parser(cl *commandLine) (*kong.Kong, error) {
	return kong.New(cl,
		kong.Name("bluepoint"),
		kong.Description("Bluepoint: the event-sourced backend of a community rewards platform."),
		kong.Writers(p.Stdout, p.Stderr),
		kong.Exit(func(code int) { panic(exitRequest(code)) }),
		defaultVars(),
	)
}

// exitRequest carries kong's exit code through a panic to Run.
type exitRequest int

// usageError marks an invalid command line or configuration.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// loggedError marks an error that was already written to the JSON log, so
// it is not printed a second time in another format.
type loggedError struct{ err error }

func (e *loggedError) Error() string { return e.err.Error() }
func (e *loggedError) Unwrap() error { return e.err }

// fail reports err (if any) on Stderr and returns the matching exit code.
func (p Program) fail(err error) int {
	if err == nil {
		return ExitOK
	}
	var logged *loggedError
	if !errors.As(err, &logged) {
		fmt.Fprintf(p.Stderr, "bluepoint: error: %v\n", err)
	}
	var usage *usageError
	if errors.As(err, &usage) {
		return ExitUsage
	}
	return ExitFailure
}
