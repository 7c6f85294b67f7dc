package eventstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Store is the event store. Both drivers implement it and pass storetest.
type Store interface {
	Vault

	// Append writes events to one or several streams atomically, each stream
	// at its expected version, together with the idempotency record, one
	// outbox row per event and the trace steps. On a version mismatch it
	// returns a *ConcurrencyError; on a reused idempotency key an
	// *IdempotencyConflictError; on invalid input a *ValidationError. In every
	// error case nothing is written. Every stream's version is checked
	// first: a refusal of a claim, a data key or the idempotency key means
	// that every version held.
	Append(ctx context.Context, params *AppendParams) (*AppendResult, error)

	// ReadStream returns a stream's events from a version on, in order.
	ReadStream(ctx context.Context, params *ReadStreamParams) ([]Event, error)

	// StreamVersion returns a stream's current version (0: no stream).
	StreamVersion(ctx context.Context, streamID string) (int64, error)

	// ReadAll returns the next events of the global log after a position, in
	// log order. It never returns an event past one that a transaction still
	// in flight may yet commit, so a reader that resumes from the last
	// position it saw never skips an event.
	ReadAll(ctx context.Context, params *ReadAllParams) ([]Event, error)

	// Head returns the id of the newest committed event (by global
	// position) of the given categories (all when none), and false when
	// there is none. ReadAll may not return it at once: a reader that must
	// have everything committed so far reads until it has seen the head.
	Head(ctx context.Context, categories []string) (uuid.UUID, bool, error)

	// Idempotency returns the record stored under key, or ErrNotFound.
	Idempotency(ctx context.Context, key string) (*IdempotencyRecord, error)

	// PendingOutbox returns unsent outbox entries in outbox order, which is
	// commit order within each stream.
	PendingOutbox(ctx context.Context, limit int) ([]OutboxEntry, error)

	// MarkSent records that entries were published. They stay (see
	// SentOutbox) until PruneOutbox removes them.
	MarkSent(ctx context.Context, ids []int64) error

	// MarkSentThenPending is MarkSent followed by PendingOutbox, in one
	// round trip where the store has them: the relay marks a round and
	// reads the next one together. The entries it returns exclude those
	// just marked.
	MarkSentThenPending(ctx context.Context, ids []int64, limit int) ([]OutboxEntry, error)

	// SentOutbox returns up to limit entries marked sent at or after since,
	// the last published first: by the time they were marked sent, then by
	// id (the relay publishes a round in id order, and marks it sent before
	// the next; across rounds, ids are not publish order where appends
	// commit concurrently). before, when set, is the last entry of the
	// previous page. It is what a stream engine that lost its last messages
	// may need again, read back until each stream's last message is found.
	SentOutbox(ctx context.Context, since time.Time, before *OutboxEntry, limit int) ([]OutboxEntry, error)

	// PruneOutbox deletes entries sent before before, and reports how many.
	PruneOutbox(ctx context.Context, before time.Time) (int64, error)

	// TryLease takes the named lease if no one holds it: one process at a
	// time does singleton work (the relay). ok is false when another holder
	// has it. A lease whose holder dies is freed for another process.
	TryLease(ctx context.Context, name string) (lease Lease, ok bool, err error)

	// TraceSteps returns a trace's steps in the order they were recorded.
	TraceSteps(ctx context.Context, traceID string) ([]TraceStep, error)

	// RecordTraceSteps stores steps that happen outside an append (a
	// duplicate request, a rejected command, a relay publish).
	RecordTraceSteps(ctx context.Context, steps []TraceStep) error

	// PruneTraceSteps deletes at most limit steps recorded before before,
	// oldest first, and reports how many. It stops at the first step, in
	// the order steps were stored, that is not that old: steps are stored
	// roughly in time order, and so it reads only what it deletes, never
	// the whole table; a straggler left behind goes with a later call.
	PruneTraceSteps(ctx context.Context, before time.Time, limit int) (int64, error)

	// Subscribe returns a channel that receives a value after new events
	// commit. Signals coalesce: one value may stand for many commits, so a
	// subscriber reads until it is caught up. cancel releases the channel.
	Subscribe() (signal <-chan struct{}, cancel func())

	// Ping checks that the database answers.
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}

// AppendParams is one atomic write.
type AppendParams struct {
	// Streams to append to; at least one, each stream at most once. (A
	// stream with no events only checks its version.)
	Streams []StreamAppend
	// Idempotency, when set, is recorded with the events. A key that already
	// exists fails the whole append with *IdempotencyConflictError.
	Idempotency *IdempotencyRecord
	// TraceSteps are recorded with the events.
	TraceSteps []TraceStep
	// Claims reserve unique values with the events; a value held by another
	// owner fails the append with *ClaimConflictError. Claiming a value the
	// same owner already holds is a no-op.
	Claims []Claim
	// Releases give up claims; releasing a claim another owner holds, or one
	// that does not exist, does nothing.
	Releases []Claim
	// Credentials are stored (replacing earlier ones) with the events.
	Credentials []Credential
	// DataKeys are stored with the events; a subject that has a key or a
	// tombstone already fails the append with ErrDataKeyExists.
	DataKeys []DataKey
}

// StreamAppend is the part of an append that goes to one stream. It may hold
// no events, which only checks the expected version: a command can depend on
// a stream it does not change.
type StreamAppend struct {
	StreamID string
	Expected ExpectedVersion
	Events   []EventData
}

// AppendResult reports what an append recorded, in the order of the params.
type AppendResult struct {
	Events []Event
}

// ReadStreamParams selects events of one stream.
type ReadStreamParams struct {
	StreamID string
	// FromVersion is the first version to return; 0 or 1 means from the start.
	FromVersion int64
	// Limit caps the number of events; 0 means all.
	Limit int
}

// DefaultReadAllLimit is the batch size of ReadAll when Limit is 0.
const DefaultReadAllLimit = 500

// ReadAllParams selects a batch of the global log.
type ReadAllParams struct {
	// After is the last position the reader has seen (Start for the beginning).
	After Position
	// Limit caps the batch; 0 means DefaultReadAllLimit.
	Limit int
	// Categories, when set, keeps only events of these stream categories.
	Categories []string
	// Types, when set, keeps only events of these types.
	Types []string
}

// IdempotencyRecord remembers a command's result under the client's key.
type IdempotencyRecord struct {
	Key string
	// Fingerprint identifies the request (a hash of what the client sent); the
	// same key with another fingerprint is a different request.
	Fingerprint string
	// Status is the result's status (for example an HTTP status).
	Status int
	// Response is the stored result, returned again for a retry.
	Response  json.RawMessage
	CreatedAt time.Time
}

// OutboxEntry is an event waiting to be published.
type OutboxEntry struct {
	ID    int64
	Event Event
	// SentAt is when the entry was marked sent (SentOutbox only).
	SentAt time.Time
}

// Lease is held singleton work. Lost is closed when the store can no longer
// guarantee the lease (its connection died): stop the work at once.
type Lease interface {
	Lost() <-chan struct{}
	Release() error
}

// TraceStep is one step of a request's journey through the system.
type TraceStep struct {
	TraceID string
	Step    string
	Status  string
	Detail  string
	At      time.Time
}
