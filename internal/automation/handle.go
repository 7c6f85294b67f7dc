package automation

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/stream"
	"github.com/bluepoint/bluepoint/internal/webhook"
)

// handler is the consumer handler of one automation. It returns nil when the
// event is done with (acted on, not wanted, or refused by the domain) and an
// error when another attempt may do better; the runtime retries that with
// backoff and parks the event after MaxDeliver attempts.
func (r *Runner) handler(a *compiled) stream.Handler {
	return func(ctx context.Context, e eventstore.Event, d stream.Delivery) error {
		if !slices.Contains(a.On, e.Type) {
			return nil // the consumer filters already; a redrive may not
		}
		if e.Metadata.Depth >= a.MaxDepth {
			r.trace(ctx, a, e, StatusStopped,
				fmt.Sprintf("chain depth %d reached the limit %d", e.Metadata.Depth, a.MaxDepth))
			return nil
		}
		vars, err := eventVars(e)
		if err != nil {
			return r.failed(ctx, a, e, d, err)
		}
		ok, err := a.holds(vars)
		if err != nil {
			return r.failed(ctx, a, e, d, err)
		}
		if !ok {
			return nil
		}
		if a.sender != nil {
			return r.callWebhook(ctx, a, e, d)
		}
		return r.runCommand(ctx, a, e, d, vars)
	}
}

// runCommand runs the automation's command for e. The idempotency key makes a
// redelivered event replay the first run's result instead of applying the
// command twice; the fingerprint is the event id, so the key never meets a
// different request.
func (r *Runner) runCommand(ctx context.Context, a *compiled, e eventstore.Event, d stream.Delivery, vars map[string]any) error {
	args, err := a.commandArgs(vars)
	if err != nil {
		return r.failed(ctx, a, e, d, err)
	}
	name := a.Action.Command.Name
	call := service.Call{
		Actor:          service.Actor{ID: "automation:" + a.Name, Kind: account.Staff},
		TraceID:        e.Metadata.TraceID,
		CausationID:    e.ID.String(),
		Depth:          e.Metadata.Depth + 1,
		IdempotencyKey: "automation:" + a.Name + ":" + e.ID.String(),
		Fingerprint:    e.ID.String(),
	}
	out, err := r.cfg.Commands.RunCommand(ctx, call, name, args)
	if de := domain.As(err); de != nil {
		// A decision, not a failure: the same event would be refused again.
		r.trace(ctx, a, e, StatusRejected, fmt.Sprintf("%s: %s", name, de.Error()))
		return nil
	}
	if err != nil {
		return r.failed(ctx, a, e, d, fmt.Errorf("%s: %w", name, err))
	}
	detail := name
	if out != nil && out.Replayed {
		detail += " replayed"
	}
	r.trace(ctx, a, e, StatusApplied, detail)
	return nil
}

// callWebhook delivers e as a signed CloudEvent, one attempt per delivery.
func (r *Runner) callWebhook(ctx context.Context, a *compiled, e eventstore.Event, d stream.Delivery) error {
	body, err := stream.Encode(e, stream.DefaultSource)
	if err != nil {
		return r.failed(ctx, a, e, d, err)
	}
	res, err := a.sender.Send(ctx, a.Action.Webhook.URL, e.ID.String(), d.Attempt, body)
	if err != nil {
		return r.failed(ctx, a, e, d, err)
	}
	r.trace(ctx, a, e, StatusDelivered, fmt.Sprintf("attempt %d: %d in %s", d.Attempt, res.Status, res.Duration.Round(time.Millisecond)))
	return nil
}

// failed records a failed attempt and returns err for the runtime to retry
// or park: "retried" for a webhook failure that another attempt may get
// past, "failed" otherwise, "dead-lettered" on the last attempt. A cancelled handler did
// not fail (the event comes back on the next start), so it records nothing.
func (r *Runner) failed(ctx context.Context, a *compiled, e eventstore.Event, d stream.Delivery, err error) error {
	if ctx.Err() != nil {
		return err
	}
	status := StatusFailed
	switch {
	case d.Attempt >= MaxDeliver:
		status = StatusDeadLettered
	case a.sender != nil && webhook.Retryable(err):
		status = StatusRetried
	}
	r.trace(ctx, a, e, status, fmt.Sprintf("attempt %d of %d: %v", d.Attempt, MaxDeliver, err))
	r.cfg.Logger.Warn("automation: attempt failed", "automation", a.Name, "event", e.ID, "type", e.Type,
		"attempt", d.Attempt, "err", err)
	return fmt.Errorf("automation %s: %w", a.Name, err)
}

// trace records a step against the event's trace id; an event without one
// (recorded outside a request) has no trace to add to. Losing a step is
// logged, not fatal: the work it describes is done.
func (r *Runner) trace(ctx context.Context, a *compiled, e eventstore.Event, status, detail string) {
	tid := e.Metadata.TraceID
	if tid == "" {
		return
	}
	step := eventstore.TraceStep{TraceID: tid, Step: a.step, Status: status, Detail: detail}
	if err := r.cfg.Store.RecordTraceSteps(context.WithoutCancel(ctx), []eventstore.TraceStep{step}); err != nil {
		r.cfg.Logger.Warn("automation: record trace step", "automation", a.Name, "trace", tid, "err", err)
	}
}
