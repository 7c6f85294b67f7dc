package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/bluepoint/bluepoint/internal/codec"
	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Pipeline runs commands against an event store. It holds no per-command
// state and is safe for concurrent use.
type Pipeline struct {
	store eventstore.Store
	codec *codec.Registry
	cfg   Config
	cache *stateCache // nil: disabled
	// watch tells whether other processes wrote since a cached state was
	// stored; nil when the store cannot tell, and then every load reads.
	watch eventstore.OtherWriters
}

// New returns a pipeline that appends to store, encoding events with c.
func New(store eventstore.Store, c *codec.Registry, cfg Config) (*Pipeline, error) {
	if store == nil || c == nil {
		return nil, errors.New("command: a store and a codec registry are required")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Pipeline{store: store, codec: c, cfg: cfg, cache: newStateCache(cfg.StateCacheSize)}
	p.watch, _ = store.(eventstore.OtherWriters)
	return p, nil
}

// session starts a Session; trust lets it use cached states without a read
// while no other process is known to have written since they were cached.
func (p *Pipeline) session(trust bool) *Session {
	s := &Session{store: p.store, codec: p.codec, cache: p.cache, streams: make(map[string]*sessionStream), first: trust}
	if p.watch != nil {
		var watching bool
		s.writes, watching = p.watch.OtherWrites()
		s.trusted = trust && watching && p.cache != nil
	}
	return s
}

// errUnchecked says that an attempt decided on cached states it did not
// read, and either ended in a way that no append checked (a rejection,
// nothing to append, events that would not seal) or lost at the append's
// version check. Such an answer is not given before an attempt that reads.
var errUnchecked = errors.New("decided on cached states no append checked")

// Request is one command to run.
type Request struct {
	// Name names the command (for example "OpenAccount") in errors and in the
	// trace step "command.<Name>". Required.
	Name string
	// IdempotencyKey, when set, makes the command apply at most once: a later
	// request with the same key gets the stored result instead.
	IdempotencyKey string
	// Fingerprint identifies the request's content (a hash of its body). It is
	// required with IdempotencyKey, to tell a retry from a reused key.
	Fingerprint string
	// Meta is recorded with every event, and its TraceID names the trace the
	// pipeline's steps go to (no steps are recorded without one).
	Meta eventstore.Metadata
	// Handle loads what the command needs, decides, emits events and returns
	// the result for the client. It may run several times (after a version
	// conflict), each time with a fresh Session, so it must not have side
	// effects of its own. An error it returns rejects the command.
	Handle func(ctx context.Context, s *Session) (Result, error)
}

// Result is what the client gets back. It is stored with the idempotency
// record, so that a retry gets exactly the same answer.
type Result struct {
	// Status is a protocol status for the edge to use, such as 201.
	Status int
	// Body is the response body; nil or valid JSON.
	Body json.RawMessage
}

// Outcome reports how a command ended.
type Outcome struct {
	Result Result
	// Events are the events recorded, grouped by stream in stream id order;
	// nil when the command was replayed or emitted nothing.
	Events []eventstore.Event
	// Replayed is true when Result is the stored result of an earlier request
	// with the same idempotency key; nothing was applied this time.
	Replayed bool
	// Attempts is how many times the command was decided, counting one for
	// each version conflict lost (0 for a replay found by a retry's lookup
	// before it ran again). A decision made again only because it was
	// made on cached states that no append checked does not count.
	Attempts int
}

// Trace step statuses recorded under "command.<Name>".
const (
	StatusApplied   = "applied"
	StatusDuplicate = "duplicate"
	StatusRejected  = "rejected"
	StatusFailed    = "failed"
)

// Run runs a command: Handle, then one atomic append of the events with the
// expected versions of every stream the handler loaded, the idempotency
// record and the trace step. A version conflict runs the command again, up
// to Config.MaxRetries times.
//
// A first attempt neither looks up its idempotency key nor reads the
// streams whose states the cache holds while the store has heard of no
// other process writing: the append refuses a key already recorded and a
// stream that moved, and the command then answers from the record or is
// decided again on what it reads. A command is refused only on states read
// from the store, or checked by its append's version checks.
//
// Errors: the handler's own error, wrapped with the command name; an
// *IdempotencyMismatchError for a reused key; after the last retry, an error
// wrapping the *eventstore.ConcurrencyError (or eventstore.ErrDataKeyExists);
// otherwise a wrapped store error.
func (p *Pipeline) Run(ctx context.Context, req *Request) (*Outcome, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	trust := true
	for attempt, retries := 1, 0; ; {
		// Looked up before a retry: a twin request that committed meanwhile
		// is answered at once instead of being decided again.
		if req.IdempotencyKey != "" && retries > 0 {
			out, err := p.lookup(ctx, req, attempt-1)
			if out != nil || err != nil {
				return out, err
			}
		}
		out, err := p.attempt(ctx, req, attempt, trust)
		if errors.Is(err, errUnchecked) {
			// Decided on cached states that turned out stale, or that no
			// append checked: decide again on what the store holds, at once.
			// This is no retry: nothing lost a race.
			trust = false
			continue
		}
		if !lostRace(err) {
			return out, err
		}
		trust = false
		if retries++; retries > p.cfg.MaxRetries {
			p.trace(ctx, req, StatusFailed, fmt.Sprintf("still conflicting after %d attempts: %v", attempt, err))
			return nil, fmt.Errorf("%s: gave up after %d attempts: %w", req.Name, attempt, err)
		}
		if err := p.backoff(ctx, retries); err != nil {
			return nil, fmt.Errorf("%s: retry after conflict: %w", req.Name, err)
		}
		attempt++
	}
}

// lostRace reports whether an attempt lost a race that running it again
// settles: a stream moved on, or a new subject's data key was stored by
// another command.
func lostRace(err error) bool {
	var conflict *eventstore.ConcurrencyError
	return errors.As(err, &conflict) || errors.Is(err, eventstore.ErrDataKeyExists)
}

// attempt runs Handle once and appends its events. A *ConcurrencyError comes
// back unwrapped for Run to retry.
func (p *Pipeline) attempt(ctx context.Context, req *Request, attempt int, trust bool) (*Outcome, error) {
	sess := p.session(trust)
	res, err := req.Handle(ctx, sess)
	if err != nil {
		if sess.unchecked && !isFailure(ctx, err) {
			return nil, errUnchecked
		}
		return p.reject(ctx, req, attempt, err)
	}
	var sealer Sealer
	if p.cfg.Seal != nil {
		sealer = p.cfg.Seal()
		if f, ok := sealer.(FreshSealer); ok {
			for id, st := range sess.streams {
				if st.fresh {
					f.Fresh(id)
				}
			}
		}
	}
	streams, n, err := sess.appends(ctx, req.Meta, sealer)
	if err != nil {
		if sess.unchecked {
			return nil, errUnchecked
		}
		if req.IdempotencyKey != "" {
			// An earlier request with the key may have applied, and this
			// one fail only because what it would emit no longer seals (an
			// erased subject): the stored answer wins.
			if out, lerr := p.lookup(ctx, req, attempt); out != nil || lerr != nil {
				return out, lerr
			}
		}
		p.trace(ctx, req, StatusFailed, err.Error())
		return nil, fmt.Errorf("%s: %w", req.Name, err)
	}
	if n == 0 && !sess.vaultWrites() && (req.IdempotencyKey == "" || len(streams) == 0) {
		// Nothing to record: no events, and no idempotency record to keep (or
		// no stream to keep it with, since a record goes with an append).
		if sess.unchecked {
			return nil, errUnchecked
		}
		if req.IdempotencyKey != "" {
			// The key may still name an earlier request's answer.
			if out, err := p.lookup(ctx, req, attempt); out != nil || err != nil {
				return out, err
			}
		}
		p.trace(ctx, req, StatusApplied, describe(0, attempt))
		return &Outcome{Result: res, Attempts: attempt}, nil
	}
	params := &eventstore.AppendParams{Streams: streams, Claims: sess.claims, Releases: sess.releases, Credentials: sess.credentials}
	if sealer != nil {
		params.DataKeys = sealer.DataKeys()
	}
	if req.IdempotencyKey != "" {
		params.Idempotency = &eventstore.IdempotencyRecord{
			Key:         req.IdempotencyKey,
			Fingerprint: req.Fingerprint,
			Status:      res.Status,
			Response:    res.Body,
		}
	}
	if req.Meta.TraceID != "" {
		params.TraceSteps = []eventstore.TraceStep{p.step(req, StatusApplied, describe(n, attempt))}
	}
	appended, err := p.store.Append(ctx, params)
	var twin *eventstore.IdempotencyConflictError
	var conflict *eventstore.ConcurrencyError
	var claimed *eventstore.ClaimConflictError
	switch {
	case err == nil:
		sess.remember(appended.Events)
		return &Outcome{Result: res, Events: appended.Events, Attempts: attempt}, nil
	case errors.As(err, &twin):
		// A request with the same key committed first: answer as it did.
		if twin.Existing != nil {
			return p.replay(ctx, req, twin.Existing, attempt)
		}
		out, err := p.lookup(ctx, req, attempt)
		if out == nil && err == nil {
			err = fmt.Errorf("%s: idempotency key reported taken but not found: %w", req.Name, twin)
		}
		return out, err
	case errors.As(err, &conflict):
		if conflict.Expected >= 0 && conflict.Actual < int64(conflict.Expected) {
			// The session saw a version the store no longer has (a store
			// restored from a backup): what the cache holds for the stream
			// is from another history, so the retry must start over.
			p.cache.dropStream(conflict.StreamID)
		}
		if sess.unchecked {
			return nil, errUnchecked
		}
		return nil, err
	case errors.Is(err, eventstore.ErrDataKeyExists):
		// Another command made the subject's key first: seal again with it.
		return nil, err
	case errors.As(err, &claimed):
		// A unique value held by someone else is an answer, not a failure:
		// a store checks every stream's version before the claims, so the
		// states it was decided on were current. The holder may be an
		// earlier request with the same key: its answer wins.
		if req.IdempotencyKey != "" {
			if out, err := p.lookup(ctx, req, attempt); out != nil || err != nil {
				return out, err
			}
		}
		p.trace(ctx, req, StatusRejected, claimed.Error())
		return nil, fmt.Errorf("%s: %w", req.Name, err)
	default:
		p.trace(ctx, req, StatusFailed, err.Error())
		return nil, fmt.Errorf("%s: append: %w", req.Name, err)
	}
}

// reject handles an error from Handle. A domain rejection may be the echo of
// a twin request that already applied (the state it decided on includes the
// twin's events), so with an idempotency key the stored result wins.
func (p *Pipeline) reject(ctx context.Context, req *Request, attempt int, err error) (*Outcome, error) {
	failed := isFailure(ctx, err)
	if req.IdempotencyKey != "" && !failed {
		out, lerr := p.lookup(ctx, req, attempt)
		if out != nil || lerr != nil {
			return out, lerr
		}
	}
	status := StatusRejected
	if failed {
		status = StatusFailed
	}
	p.trace(ctx, req, status, err.Error())
	return nil, fmt.Errorf("%s: %w", req.Name, err)
}

// isFailure tells an infrastructure failure (the store, the codec, the
// context) from a domain decision.
func isFailure(ctx context.Context, err error) bool {
	var le *loadError
	return errors.As(err, &le) || ctx.Err() != nil ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// backoff waits a random time before retry number attempt, or until ctx ends.
func (p *Pipeline) backoff(ctx context.Context, attempt int) error {
	ceiling := p.cfg.RetryBackoff << min(attempt-1, maxBackoffDoublings)
	if ceiling <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(rand.N(ceiling))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (r *Request) validate() error {
	switch {
	case r == nil:
		return &eventstore.ValidationError{Field: "request", Reason: "must not be nil"}
	case r.Name == "":
		return &eventstore.ValidationError{Field: "name", Reason: "must not be empty"}
	case r.Handle == nil:
		return &eventstore.ValidationError{Field: "handle", Reason: "must not be nil"}
	case r.IdempotencyKey != "" && r.Fingerprint == "":
		return &eventstore.ValidationError{Field: "fingerprint", Reason: "is required with an idempotency key"}
	}
	return nil
}
