package eventstore

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned when a requested record does not exist.
var ErrNotFound = errors.New("not found")

// ErrErased is returned for a data key that was deleted: the subject's
// personal data was erased and stays so.
var ErrErased = errors.New("erased")

// ErrDataKeyExists is returned by an append whose DataKeys name a subject
// that has a key (or was erased) already: another command got there first.
// Nothing of the append was written; sealing again with the stored key and
// retrying is the remedy.
var ErrDataKeyExists = errors.New("data key exists already")

// ErrClosed is returned by a store that has been closed.
var ErrClosed = errors.New("event store closed")

// ConcurrencyError says that a stream was not at the version the caller
// expected. Nothing of the append was written.
type ConcurrencyError struct {
	StreamID string
	Expected ExpectedVersion
	// Actual is the stream's version when the append was refused (0: no stream).
	Actual int64
}

func (e *ConcurrencyError) Error() string {
	return fmt.Sprintf("stream %s: expected %s, but it is at version %d", e.StreamID, e.Expected, e.Actual)
}

// ValidationError says which part of a call is invalid and why.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

func invalid(field, reason string) error { return &ValidationError{Field: field, Reason: reason} }

// IdempotencyConflictError says that an idempotency key was already recorded.
// The command pipeline turns it into the stored result (same fingerprint) or
// a mismatch (a different one).
type IdempotencyConflictError struct {
	Key      string
	Existing *IdempotencyRecord
}

func (e *IdempotencyConflictError) Error() string {
	return fmt.Sprintf("idempotency key %q was already used", e.Key)
}
