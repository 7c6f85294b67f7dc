package graphql

import (
	"context"
	"log/slog"
	"time"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/readmodel/eventlog"
)

// Subscriptions poll rather than listen: trace steps are recorded by many
// parts of the system (the pipeline, the relay, each projection), some
// outside any event append, and the event log fills as its projection
// catches up; a poll every few hundred milliseconds sees both with one
// mechanism. Each subscription ends when its client leaves or its
// lifetime is over, and sends at most maxSubscriptionItems items.
const maxSubscriptionItems = 100_000

func traceStepOf(st eventstore.TraceStep) *TraceStep {
	return &TraceStep{Step: st.Step, Status: st.Status, Detail: opt(st.Detail), At: st.At}
}

func (r *queryResolver) Trace(ctx context.Context, id string) (*Trace, error) {
	if err := staffOnly(ctx); err != nil {
		return nil, err
	}
	steps, err := r.s.deps.Store.TraceSteps(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &Trace{TraceID: id, Steps: make([]TraceStep, len(steps))}
	for i, st := range steps {
		out.Steps[i] = *traceStepOf(st)
	}
	return out, nil
}

// TraceSteps sends the steps recorded so far, then each new one. A step is
// known by its content rather than its place in the list: on Postgres a
// step can commit after a later one and appear before it.
func (r *subscriptionResolver) TraceSteps(ctx context.Context, traceID string) (<-chan *TraceStep, error) {
	if err := staffOnly(ctx); err != nil {
		return nil, err
	}
	out := make(chan *TraceStep)
	type key struct {
		step, status, detail string
		at                   int64
	}
	seen := map[key]bool{}
	go r.s.pollLoop(ctx, "trace steps", func(ctx context.Context) (bool, error) {
		steps, err := r.s.deps.Store.TraceSteps(ctx, traceID)
		if err != nil {
			return false, err
		}
		for _, st := range steps {
			k := key{st.Step, st.Status, st.Detail, st.At.UnixNano()}
			if seen[k] {
				continue
			}
			if len(seen) >= maxSubscriptionItems || !send(ctx, out, traceStepOf(st)) {
				return false, nil
			}
			seen[k] = true
		}
		return true, nil
	}, func() { close(out) })
	return out, nil
}

// Events sends the entries that reach the event log after it starts,
// oldest first. The log is read newest first: whatever the first pages
// hold that the last poll did not is new.
func (r *subscriptionResolver) Events(ctx context.Context, filter *NewEventsFilter) (<-chan *Event, error) {
	f := deref(filter)
	if err := ownEventsOrStaff(ctx, deref(f.CustomerID)); err != nil {
		return nil, err
	}
	lf := eventlog.Filter{CustomerID: deref(f.CustomerID), Types: f.Types}
	seen, _, err := r.s.newEntries(ctx, lf, nil)
	if err != nil {
		return nil, err
	}
	out := make(chan *Event)
	sent := 0
	go r.s.pollLoop(ctx, "events", func(ctx context.Context) (bool, error) {
		now, fresh, err := r.s.newEntries(ctx, lf, seen)
		if err != nil {
			return false, err
		}
		seen = now
		for i := len(fresh) - 1; i >= 0; i-- {
			if sent >= maxSubscriptionItems {
				return false, nil
			}
			e := eventOf(fresh[i])
			if !send(ctx, out, &e) {
				return false, nil
			}
			sent++
		}
		return true, nil
	}, func() { close(out) })
	return out, nil
}

// newsPages bounds how far back one poll reads when everything it reads is
// new: a burst larger than this between two polls is sent in part.
const newsPages = 5

// newEntries reads the newest entries matching f and returns the ids it
// read and, newest first, the entries not in seen.
func (s *server) newEntries(ctx context.Context, f eventlog.Filter, seen map[string]bool) (map[string]bool, []eventlog.Entry, error) {
	now := map[string]bool{}
	var fresh []eventlog.Entry
	cursor := ""
	for range newsPages {
		page, next, err := eventlog.List(ctx, s.deps.ReadDB, f, eventlog.MaxLimit, cursor)
		if err != nil {
			return nil, nil, err
		}
		old := false
		for _, e := range page {
			now[e.ID] = true
			if seen[e.ID] {
				old = true
			} else if seen != nil {
				fresh = append(fresh, e)
			}
		}
		if old || next == "" || seen == nil {
			break
		}
		cursor = next
	}
	return now, fresh, nil
}

// pollLoop calls poll at once and then every s.poll until poll says stop,
// ctx ends or the subscription's lifetime is over; then done.
func (s *server) pollLoop(ctx context.Context, what string, poll func(context.Context) (bool, error), done func()) {
	defer done()
	ctx, cancel := context.WithTimeout(ctx, s.lifetime)
	defer cancel()
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	for {
		more, err := poll(ctx)
		if err != nil && ctx.Err() == nil {
			s.deps.Logger.LogAttrs(ctx, slog.LevelError, "graphql: subscription failed",
				slog.String("subscription", what), slog.String("trace_id", api.TraceID(ctx)), slog.Any("err", err))
		}
		if err != nil || !more {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// send delivers v unless the subscription ends first.
func send[T any](ctx context.Context, out chan<- T, v T) bool {
	select {
	case out <- v:
		return true
	case <-ctx.Done():
		return false
	}
}
