package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bluepoint/bluepoint/internal/app"
)

// dlqCmd groups the dead-letter commands.
type dlqCmd struct {
	List    dlqListCmd    `cmd:"" help:"List events that a sink or automation gave up on."`
	Redrive dlqRedriveCmd `cmd:"" help:"Deliver parked events again to the consumer that parked them."`
}

type dlqListCmd struct {
	configFlags
	Consumer string `name:"consumer" placeholder:"NAME" help:"Only this consumer's (for example sink-archive). Default: all."`
	Limit    int    `name:"limit" default:"100" help:"At most this many. Default: ${default}."`
}

// Run prints the dead letters as a table.
func (c *dlqListCmd) Run(ctx context.Context, p *Program) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	dls, err := app.DeadLetters(ctx, cfg, c.Consumer, c.Limit)
	if err != nil {
		return fmt.Errorf("dlq list: %w", err)
	}
	if len(dls) == 0 {
		_, err := fmt.Fprintln(p.Stdout, "no dead letters")
		return err
	}
	tw := tabwriter.NewWriter(p.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tCONSUMER\tSTREAM\tTYPE\tEVENT\tATTEMPTS\tAT\tERROR")
	for _, d := range dls {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.Sequence, d.Consumer, d.Stream, d.Event.Type, d.Event.ID,
			d.Attempts, d.At.UTC().Format(time.RFC3339), oneLine(d.Error, 80))
	}
	return tw.Flush()
}

type dlqRedriveCmd struct {
	configFlags
	Sequences []uint64 `arg:"" name:"seq" help:"Sequence numbers from dlq list."`
}

// Run redrives the given dead letters.
func (c *dlqRedriveCmd) Run(ctx context.Context, p *Program) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	if err := app.Redrive(ctx, cfg, c.Sequences); err != nil {
		return fmt.Errorf("dlq redrive: %w", err)
	}
	_, err = fmt.Fprintf(p.Stdout, "redriven: %d\n", len(c.Sequences))
	return err
}

// archiveCmd groups the archive commands.
type archiveCmd struct {
	Verify archiveVerifyCmd `cmd:"" help:"Check that an archive sink holds every event of the store, once."`
}

type archiveVerifyCmd struct {
	configFlags
	Sink string `name:"sink" required:"" placeholder:"NAME" help:"The archive sink of bluepoint.yaml (--config) to check."`
}

// Run verifies and prints the report; a bad archive exits non-zero.
func (c *archiveVerifyCmd) Run(ctx context.Context, p *Program) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	rep, err := app.VerifyArchive(ctx, app.VerifyArchiveParams{Config: cfg, Sink: c.Sink, Progress: progress(p.Stderr, "reading archive objects")})
	if err != nil {
		return fmt.Errorf("archive verify: %w", err)
	}
	fmt.Fprintf(p.Stdout, "store events: %d\narchived events: %d\nmissing: %d\nduplicates: %d\nmismatched: %d\nunknown: %d\n",
		rep.StoreEvents, rep.ArchivedEvents, rep.MissingCount, rep.DuplicateCount, rep.MismatchCount, rep.UnknownCount)
	for _, id := range rep.Missing {
		fmt.Fprintf(p.Stdout, "missing %s\n", id)
	}
	for _, id := range rep.Duplicates {
		fmt.Fprintf(p.Stdout, "duplicate %s\n", id)
	}
	if !rep.OK() {
		return fmt.Errorf("archive verify: the archive of sink %s does not match the store", c.Sink)
	}
	_, err = fmt.Fprintln(p.Stdout, "ok")
	return err
}

// progress returns a callback drawing "label: done/total" on w in place,
// finishing the line when done reaches total.
func progress(w io.Writer, label string) func(done, total int) {
	return func(done, total int) {
		fmt.Fprintf(w, "\r%s: %d/%d", label, done, total)
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

// replayCmd rebuilds one read model.
type replayCmd struct {
	configFlags
	Projection string `name:"projection" required:"" placeholder:"NAME" help:"The read model to rebuild."`
}

// replayGCPercent is the garbage collector's target while a replay runs,
// unless GOGC says otherwise. A rebuild keeps little alive (a batch or two
// of events) but allocates for every event it decodes and writes, so at
// Go's default of 100 it collected a small heap over and over: a third of
// the process's CPU on a million events. At 400 the process takes 7 s of
// CPU instead of 10, for about 45 MB more at its peak.
const replayGCPercent = 400

// Run rebuilds the projection with a progress count on Stderr.
func (c *replayCmd) Run(ctx context.Context, p *Program) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(replayGCPercent))
	}
	applied := 0
	err = app.Replay(ctx, app.ReplayParams{Config: cfg, Projection: c.Projection, Progress: func(n int) {
		applied = n
		fmt.Fprintf(p.Stderr, "\rreplaying %s: %d events", c.Projection, n)
	}}, newLogger(p.Stderr, cfg))
	if applied > 0 {
		fmt.Fprintln(p.Stderr)
	}
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	_, err = fmt.Fprintf(p.Stdout, "rebuilt %s from %d events\n", c.Projection, applied)
	return err
}

// exportCmd groups the data set exports.
type exportCmd struct {
	Features exportFeaturesCmd `cmd:"" help:"Export the per-account features (ratings and ML data) as CSV or Parquet."`
}

type exportFeaturesCmd struct {
	configFlags
	Format string `name:"format" enum:"csv,parquet" default:"csv" help:"csv or parquet. Default: ${default}."`
	Out    string `name:"out" required:"" type:"path" placeholder:"FILE" help:"The file to write ('-' for standard output)."`
}

// Run writes the export to a temporary file and renames it into place, so
// a failed export never leaves a truncated file behind.
func (c *exportFeaturesCmd) Run(ctx context.Context, p *Program) error {
	cfg, err := c.config()
	if err != nil {
		return err
	}
	out, finish, err := createAtomic(c.Out, p.Stdout)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	n, err := app.ExportFeatures(ctx, app.ExportFeaturesParams{Config: cfg, Format: c.Format, Out: out,
		Progress: func(rows int) { fmt.Fprintf(p.Stderr, "\rexporting features: %d rows", rows) }})
	fmt.Fprintln(p.Stderr)
	if err := finish(err); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if c.Out != "-" {
		_, err = fmt.Fprintf(p.Stdout, "exported %d accounts to %s\n", n, c.Out)
	}
	return err
}
