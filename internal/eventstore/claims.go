package eventstore

import (
	"context"
	"fmt"
)

// Claim reserves a value in a scope for one owner, atomically with an
// append: the store's answer to "unique across all streams", such as an
// email held by one account or an encounter token used once. Aggregates
// cannot enforce that alone, since each sees only its own stream.
type Claim struct {
	// Scope groups values that must be unique together, for example "email".
	Scope string
	// Value is what is reserved (store a blind index, not personal data).
	Value string
	// Owner is who holds it, usually the id of the claiming aggregate.
	Owner string
}

// ClaimConflictError says a value is already claimed in its scope. Nothing
// of the append was written.
type ClaimConflictError struct {
	Scope string
	Value string
	// Owner is the current holder.
	Owner string
}

func (e *ClaimConflictError) Error() string {
	return fmt.Sprintf("%s is already taken", e.Scope)
}

// Credential is a secret kept beside the events, never in them (for example
// a password hash), written in the same transaction as the events.
type Credential struct {
	Subject string
	Secret  []byte
}

// DataKey is a subject's wrapped data key, stored in the same transaction as
// the first events sealed with it, so a new subject costs no commit of its
// own and its key exists exactly when those events do.
type DataKey struct {
	Subject string
	Wrapped []byte
}

// Vault holds what must not be in immutable events: unique claims,
// credentials and wrapped data keys. Every driver implements it with its
// Store.
type Vault interface {
	// ClaimOwner returns who holds value in scope, or ErrNotFound.
	ClaimOwner(ctx context.Context, scope, value string) (string, error)
	// Credential returns a subject's secret, or ErrNotFound.
	Credential(ctx context.Context, subject string) ([]byte, error)
	// DataKey returns a subject's wrapped data key, ErrErased when it was
	// deleted, or ErrNotFound when the subject never had one.
	DataKey(ctx context.Context, subject string) ([]byte, error)
	// PutDataKey stores a wrapped data key unless the subject has one, and
	// returns the key that is stored: concurrent first uses agree on one. An
	// erased subject gets ErrErased, never a new key.
	PutDataKey(ctx context.Context, subject string, wrapped []byte) ([]byte, error)
	// DeleteDataKey deletes a subject's data key and leaves a tombstone, so
	// the erasure is permanent. It is idempotent, and erasing a subject that
	// never had a key still leaves the tombstone.
	DeleteDataKey(ctx context.Context, subject string) error
}

func (c *Claim) validate() error {
	switch {
	case c.Scope == "" || len(c.Scope) > maxIDLength:
		return invalid("scope", fmt.Sprintf("must be 1 to %d bytes", maxIDLength))
	case c.Value == "" || len(c.Value) > 1024:
		return invalid("value", "must be 1 to 1024 bytes")
	case c.Owner == "" || len(c.Owner) > maxIDLength:
		return invalid("owner", fmt.Sprintf("must be 1 to %d bytes", maxIDLength))
	}
	return nil
}

func (c *Credential) validate() error { return validateSecret(c.Subject, "secret", c.Secret) }

func (k *DataKey) validate() error { return validateSecret(k.Subject, "wrapped", k.Wrapped) }

// validateSecret checks what the vault keeps per subject: a subject id and
// 1 to 4096 bytes under the name field.
func validateSecret(subject, field string, b []byte) error {
	switch {
	case subject == "" || len(subject) > maxIDLength:
		return invalid("subject", fmt.Sprintf("must be 1 to %d bytes", maxIDLength))
	case len(b) == 0 || len(b) > 4096:
		return invalid(field, "must be 1 to 4096 bytes")
	}
	return nil
}
