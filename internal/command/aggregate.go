package command

import (
	"context"
	"errors"
	"fmt"
	"reflect"

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
	//
	// The pipeline caches folded states by stream, state type and the Initial
	// and Evolve functions, so two aggregates of one state type over one
	// stream must not differ only by what their function literals capture.
	Evolve func(state S, event any) S
	// Clone returns a deep copy of a state, so that a cached state is never
	// shared with a handler that may change it. Nil: S's own Clone() S method
	// if it has one; otherwise a state of plain values is copied by
	// assignment, and a state holding maps, slices, pointers or interfaces is
	// not cached (it is folded from all its events on every Load).
	Clone func(S) S
}

// Stream returns the id of the stream that holds the aggregate id.
func (a Aggregate[S]) Stream(id string) string { return eventstore.StreamID(a.Category, id) }

// Fold applies events to the initial state. It is what Load does after
// reading, exposed for tests written as given(events) -> state.
func (a Aggregate[S]) Fold(events ...any) S {
	return a.foldOnto(a.initial(), events)
}

func (a Aggregate[S]) initial() S {
	if a.Initial != nil {
		return a.Initial()
	}
	var zero S
	return zero
}

func (a Aggregate[S]) foldOnto(state S, events []any) S {
	for _, e := range events {
		state = a.Evolve(state, e)
	}
	return state
}

// folder returns how to fold events onto a copy of a state the session or
// the cache holds.
func (a Aggregate[S]) folder(clone func(S) S) func(any, []any) any {
	return func(v any, events []any) any { return a.foldOnto(clone(v.(S)), events) }
}

// kind identifies the aggregate's way of folding for the cache.
func (a Aggregate[S]) kind() stateKind {
	k := stateKind{typ: reflect.TypeFor[S](), evolve: reflect.ValueOf(a.Evolve).Pointer()}
	if a.Initial != nil {
		k.initial = reflect.ValueOf(a.Initial).Pointer()
	}
	return k
}

// Load rehydrates the aggregate id within a session and returns its state and
// version (0: the stream does not exist yet).
//
// The session remembers the version it saw: when the command's events are
// appended, this stream must still be at that version, whether or not the
// command emits to it. That is what makes a decision based on this state
// safe under concurrency. Loading the same aggregate twice in a session reads
// it once; another aggregate over a stream the session already loaded reads
// it no further than the version loaded. Events emitted in the session are
// not folded in.
//
// The pipeline's state cache (Config.StateCacheSize) supplies the state as
// last folded, so only the events appended since are read; while the store
// has heard of no other process writing since the state was cached, the
// first attempt of a command reads nothing at all (see Pipeline.Run). The
// cache can only be behind the store, never wrong about what it has seen,
// and the append checks the version: a stale entry costs a longer read or a
// retry, not a wrong decision.
func Load[S any](ctx context.Context, s *Session, agg Aggregate[S], id string) (S, int64, error) {
	var zero S
	if agg.Evolve == nil {
		return zero, 0, fmt.Errorf("aggregate %q has no Evolve function", agg.Category)
	}
	streamID := agg.Stream(id)
	clone, ok := copyFunc(agg.Clone)
	if !ok {
		events, version, err := s.readAll(ctx, streamID)
		if err != nil {
			return zero, 0, err
		}
		return agg.Fold(events...), version, nil
	}
	kind := agg.kind()
	st := s.streams[streamID]
	loaded := st != nil && st.loaded
	if loaded {
		if v, ok := st.states[kind]; ok {
			return clone(v.value.(S)), st.version, nil
		}
	}
	// A stream already loaded in this session (by another aggregate) is read
	// only up to the version loaded, so that every state the handler sees
	// agrees with the version the append will expect.
	upTo := int64(-1)
	if loaded {
		upTo = st.version
	}
	fold := agg.folder(clone)
	key := cacheKey{stream: streamID, kind: kind}
	state, after := agg.initial(), int64(0)
	if e, ok := s.cache.get(key); ok && (upTo < 0 || e.version <= upTo) {
		if s.current(e) && (upTo < 0 || e.version == upTo) {
			// Nothing newer is known of: take the state as it is, and let
			// the append check that the stream is still at its version.
			s.unchecked = true
			s.loaded(streamID, e.version).states[kind] = sessionState{value: e.state, fold: fold}
			return clone(e.state.(S)), e.version, nil
		}
		state, after = clone(e.state.(S)), e.version
	}
	events, version, err := s.readRange(ctx, streamID, after, upTo)
	if errors.Is(err, errGap) && after > 0 {
		// The stream does not continue where the entry left off: trust the
		// store, not the entry.
		s.cache.drop(key)
		state, after = agg.initial(), 0
		events, version, err = s.readRange(ctx, streamID, after, upTo)
	}
	if err != nil {
		return zero, 0, &loadError{streamID: streamID, err: err}
	}
	state = agg.foldOnto(state, events)
	// One private copy serves both the session and the cache: both only ever
	// hand out copies of it.
	kept := any(clone(state))
	s.loaded(streamID, version).states[kind] = sessionState{value: kept, fold: fold}
	s.cache.put(key, cacheEntry{state: kept, version: version, writes: s.writes})
	return state, version, nil
}

// LoadNew is Load for an aggregate whose id the command has just made up (a
// new random id), so its stream cannot exist yet: on a command's first
// attempt it reads nothing and returns the initial state at version 0. The
// append still checks that the stream does not exist; should it exist, the
// command is decided again with Load's read, as is any answer that no
// append checked.
func LoadNew[S any](ctx context.Context, s *Session, agg Aggregate[S], id string) (S, int64, error) {
	streamID := agg.Stream(id)
	if !s.first || agg.Evolve == nil || s.streams[streamID] != nil {
		return Load(ctx, s, agg, id)
	}
	clone, ok := copyFunc(agg.Clone)
	if !ok {
		return Load(ctx, s, agg, id)
	}
	initial := agg.initial()
	st := s.loaded(streamID, 0)
	st.fresh = true
	st.states[agg.kind()] = sessionState{value: any(clone(initial)), fold: agg.folder(clone)}
	s.unchecked = true
	return initial, 0, nil
}

// Latest returns an aggregate's state for a decision that does not pin its
// version (a price read from a rule, say): what the cache holds, without a
// read, while the store has heard of no other process writing since it was
// cached; otherwise what a read finds. It is what a read a moment earlier
// would have given.
func Latest[S any](ctx context.Context, p *Pipeline, agg Aggregate[S], id string) (S, int64, error) {
	return Load(ctx, p.session(true), agg, id)
}

// Current returns an aggregate's state as of now, outside any command, for
// a caller that shows it rather than decides on it. It reads through the
// pipeline's state cache, so a long stream costs only its newest events.
func Current[S any](ctx context.Context, p *Pipeline, agg Aggregate[S], id string) (S, int64, error) {
	return Load(ctx, p.session(false), agg, id)
}
