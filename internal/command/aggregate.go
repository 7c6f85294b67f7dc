package command

import (
	"context"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Aggregate describes how to rebuild one kind of domain state from its
// events. It holds only pure functions, so domain packages can define their
// Initial and Evolve without importing any infrastructure.
type Aggregate[S any] struct {
	// Category is the stream category: an aggregate with id "42" lives in the
	// stream "<Category>-42".
	Category string
	// Initial returns the state before the first event. Nil means S's zero
	// value.
	Initial func() S
	// Evolve applies one decoded domain event (a value as registered in the
	// codec) to the state. It must be pure and should ignore event types it
	// does not know, so that new events do not break old aggregates.
	Evolve func(state S, event any) S
}

// Stream returns the id of the stream that holds the aggregate id.
func (a Aggregate[S]) Stream(id string) string { return eventstore.StreamID(a.Category, id) }

// Fold applies events to the initial state. It is what Load does after
// reading, exposed for tests written as given(events) -> state.
func (a Aggregate[S]) Fold(events ...any) S {
	var state S
	if a.Initial != nil {
		state = a.Initial()
	}
	for _, e := range events {
		state = a.Evolve(state, e)
	}
	return state
}

// Load rehydrates the aggregate id within a session and returns its state and
// version (0: the stream does not exist yet).
//
// The session remembers the version it saw: when the command's events are
// appended, this stream must still be at that version, whether or not the
// command emits to it. That is what makes a decision based on this state
// safe under concurrency. Loading the same stream twice in a session reads it
// once; events emitted in the session are not folded in.
func Load[S any](ctx context.Context, s *Session, agg Aggregate[S], id string) (S, int64, error) {
	if agg.Evolve == nil {
		var zero S
		return zero, 0, fmt.Errorf("aggregate %q has no Evolve function", agg.Category)
	}
	events, version, err := s.read(ctx, agg.Stream(id))
	if err != nil {
		var zero S
		return zero, 0, err
	}
	return agg.Fold(events...), version, nil
}
