package command

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

func (p *Pipeline) step(req *Request, status, detail string) eventstore.TraceStep {
	return eventstore.TraceStep{
		TraceID: req.Meta.TraceID,
		Step:    "command." + req.Name,
		Status:  status,
		Detail:  detail,
		At:      p.cfg.Now(),
	}
}

// trace records a step that happens outside an append. A failure is logged,
// not returned: the command's outcome is already decided and must not change
// because its trace could not be written.
func (p *Pipeline) trace(ctx context.Context, req *Request, status, detail string) {
	if req.Meta.TraceID == "" {
		return
	}
	if err := p.store.RecordTraceSteps(ctx, []eventstore.TraceStep{p.step(req, status, detail)}); err != nil {
		level := slog.LevelWarn
		if ctx.Err() != nil {
			level = slog.LevelDebug // the caller went away; expected, not a fault
		}
		p.cfg.Logger.Log(ctx, level, "command: trace step not recorded",
			"command", req.Name, "trace_id", req.Meta.TraceID, "status", status, "err", err)
	}
}

func describe(events, attempt int) string {
	s := fmt.Sprintf("%d events", events)
	if events == 1 {
		s = "1 event"
	}
	if attempt > 1 {
		s += fmt.Sprintf(" after %d attempts", attempt)
	}
	return s
}
