package command

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/bluepoint/bluepoint/internal/codec"
	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Session is what a command handler works with during one attempt: it loads
// aggregates (Load) and collects the events to append (Emit). The pipeline
// creates a fresh Session for every attempt, so nothing leaks from a run that
// lost a race into its retry. A Session is not safe for concurrent use.
type Session struct {
	store   eventstore.Store
	codec   *codec.Registry
	cache   *stateCache // nil: none
	streams map[string]*sessionStream
	// writes is the store's count of other processes' writes when the
	// session began (see eventstore.OtherWriters), and trusted says whether
	// cached states stored at that count may be used without a read.
	writes  uint64
	trusted bool
	// first: the command's first attempt, which may take a stream it made
	// the id of as new without reading it (LoadNew).
	first bool
	// unchecked: a state came from the cache, or was taken as new, without
	// a read. The append checks its version; an attempt that ends without
	// one is run again with reads before its answer is believed.
	unchecked bool
	// vault writes that go in the same append as the events
	claims, releases []eventstore.Claim
	credentials      []eventstore.Credential
}

// Claim reserves a unique value (see eventstore.Claim) in the command's
// append. If another owner holds it, the command fails with
// *eventstore.ClaimConflictError and nothing is written.
func (s *Session) Claim(scope, value, owner string) {
	s.claims = append(s.claims, eventstore.Claim{Scope: scope, Value: value, Owner: owner})
}

// Release gives up a claim in the command's append.
func (s *Session) Release(scope, value, owner string) {
	s.releases = append(s.releases, eventstore.Claim{Scope: scope, Value: value, Owner: owner})
}

// SetCredential stores a secret (a password hash) in the command's append,
// beside the events and never in them.
func (s *Session) SetCredential(subject string, secret []byte) {
	s.credentials = append(s.credentials, eventstore.Credential{Subject: subject, Secret: secret})
}

// vaultWrites reports whether the session holds claims, releases or
// credentials to write.
func (s *Session) vaultWrites() bool {
	return len(s.claims)+len(s.releases)+len(s.credentials) > 0
}

// sessionStream is what the session knows about one stream it touched.
type sessionStream struct {
	loaded  bool
	version int64 // as loaded
	fresh   bool  // taken as new by LoadNew, unread
	// states holds, by kind, a copy of each state loaded from the stream,
	// folded up to version, so that loading it again reads nothing.
	states map[stateKind]sessionState
	// stored holds the decoded events up to version, once a state that
	// cannot be cached needed them all (see Aggregate.Clone).
	stored    []any
	hasStored bool
	emitted   []any // domain events to append
}

// sessionState is one state the session loaded, with how to fold events
// onto a copy of it.
type sessionState struct {
	value any // never mutated, like a cache entry's
	fold  func(state any, events []any) any
}

// current reports whether a cache entry may stand for the stream without a
// read: the session trusts the cache, and no other process is known to
// have written since the entry was stored.
func (s *Session) current(e cacheEntry) bool {
	return s.trusted && e.writes == s.writes
}

// remember puts in the cache the states of the streams an append moved,
// folded on from the versions the session loaded them at with the events
// the store recorded, so that the next command finds them current. Any
// other state cached for a stream that moved (another kind, or one the
// session did not load) is dropped: it is behind now, and this process's
// own appends do not move the count of other writes that would say so.
func (s *Session) remember(appended []eventstore.Event) {
	if s.cache == nil {
		return
	}
	byStream := map[string][]eventstore.Event{}
	for _, e := range appended {
		byStream[e.StreamID] = append(byStream[e.StreamID], e)
	}
	for id, recorded := range byStream {
		s.cache.dropStream(id)
		st := s.streams[id]
		if st == nil || !st.loaded || len(st.states) == 0 {
			continue
		}
		events := make([]any, 0, len(recorded))
		version := st.version
		for _, e := range recorded {
			v, err := s.codec.Decode(e)
			if err != nil || e.StreamVersion != version+1 {
				events = nil // the next load reads the stream instead
				break
			}
			events = append(events, v)
			version = e.StreamVersion
		}
		if events == nil {
			continue
		}
		for kind, ss := range st.states {
			s.cache.put(cacheKey{stream: id, kind: kind}, cacheEntry{state: ss.fold(ss.value, events), version: version, writes: s.writes})
		}
	}
}

// Emit queues domain events (values registered in the codec) for the stream
// streamID, in order. They are appended when the handler returns without an
// error, at the version Load saw for that stream.
//
// A stream that was never loaded in the session is appended to at whatever
// version it has (eventstore.Any): the command did not read it, so no
// decision depends on it. Load a stream first to guard its version, for
// example to make sure an aggregate is created only once.
func (s *Session) Emit(streamID string, events ...any) {
	st := s.stream(streamID)
	st.emitted = append(st.emitted, events...)
}

func (s *Session) stream(id string) *sessionStream {
	st := s.streams[id]
	if st == nil {
		st = &sessionStream{}
		s.streams[id] = st
	}
	return st
}

// errGap says that a stream's events did not follow on from the version a
// read started after: the state that read was to extend does not belong to
// this stream as the store has it.
var errGap = errors.New("events do not follow on from the cached version")

// readRange returns a stream's decoded events after version after, up to
// version upTo (all when negative), and the version of the last one (after,
// if there is none). It reads nothing when the range is empty.
func (s *Session) readRange(ctx context.Context, streamID string, after, upTo int64) ([]any, int64, error) {
	p := &eventstore.ReadStreamParams{StreamID: streamID, FromVersion: after + 1}
	if upTo >= 0 {
		if upTo <= after {
			return nil, after, nil
		}
		p.Limit = int(upTo - after)
	}
	recorded, err := s.store.ReadStream(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	events := make([]any, 0, len(recorded))
	version := after
	for _, e := range recorded {
		// From the start there is nothing the events must follow on from.
		if after > 0 && e.StreamVersion != version+1 {
			return nil, 0, fmt.Errorf("stream %s: version %d after %d: %w", streamID, e.StreamVersion, version, errGap)
		}
		v, err := s.codec.Decode(e)
		if err != nil {
			return nil, 0, err
		}
		events = append(events, v)
		version = e.StreamVersion
	}
	return events, version, nil
}

// readAll returns all of a stream's decoded events and its version, reading
// the store only the first time.
func (s *Session) readAll(ctx context.Context, streamID string) ([]any, int64, error) {
	st := s.streams[streamID]
	if st != nil && st.hasStored {
		return st.stored, st.version, nil
	}
	upTo := int64(-1)
	if st != nil && st.loaded {
		upTo = st.version
	}
	events, version, err := s.readRange(ctx, streamID, 0, upTo)
	if err != nil {
		return nil, 0, &loadError{streamID: streamID, err: err}
	}
	st = s.loaded(streamID, version)
	st.stored, st.hasStored = events, true
	return events, version, nil
}

// loaded records that the session read streamID at version; every later
// read of the stream in the session stops there.
func (s *Session) loaded(streamID string, version int64) *sessionStream {
	st := s.stream(streamID)
	if !st.loaded {
		st.loaded, st.version = true, version
		st.states = make(map[stateKind]sessionState, 1)
	}
	return st
}

// appends builds the stream part of the append: every stream the session
// touched, with its expected version and encoded events, and the number of
// events. Streams are sorted by id so that concurrent commands touching the
// same streams lock them in the same order.
func (s *Session) appends(ctx context.Context, meta eventstore.Metadata, sealer Sealer) ([]eventstore.StreamAppend, int, error) {
	ids := make([]string, 0, len(s.streams))
	for id := range s.streams {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]eventstore.StreamAppend, 0, len(ids))
	n := 0
	for _, id := range ids {
		st := s.streams[id]
		sa := eventstore.StreamAppend{StreamID: id, Expected: eventstore.Any}
		if st.loaded {
			sa.Expected = eventstore.ExpectedVersion(st.version) // 0 is NoStream
		}
		for _, v := range st.emitted {
			if sealer != nil {
				sealed, err := sealer.Seal(ctx, id, v)
				if err != nil {
					return nil, 0, fmt.Errorf("seal event for %s: %w", id, err)
				}
				v = sealed
			}
			data, err := s.codec.Encode(v)
			if err != nil {
				return nil, 0, fmt.Errorf("emit to %s: %w", id, err)
			}
			data.Metadata = meta
			sa.Events = append(sa.Events, data)
		}
		n += len(sa.Events)
		out = append(out, sa)
	}
	return out, n, nil
}

// loadError marks a failure to read or decode a stream, so the pipeline can
// tell an infrastructure failure from a domain rejection even when the handler
// wrapped it.
type loadError struct {
	streamID string
	err      error
}

func (e *loadError) Error() string { return fmt.Sprintf("load %s: %v", e.streamID, e.err) }
func (e *loadError) Unwrap() error { return e.err }
