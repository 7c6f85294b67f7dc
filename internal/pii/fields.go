package pii

import (
	"context"
	"errors"
	"fmt"
)

// SealFields seals, for subjectID, every string field tagged `pii:"true"` in
// the struct v points to, including fields of nested and embedded structs,
// of structs behind pointers, and of slice and array elements. This is how an
// event payload is made safe to store: tag its personal fields, seal before
// append, open after load.
//
// Only string fields may be tagged; a tagged field of another type, a tagged
// field in a map, or a tagged field that cannot be set is an error (see
// [ErrUnsupported]) rather than personal data silently left in the clear.
// Values behind interfaces are not visited. Empty strings stay empty, since
// an absent value is not personal data. Every tagged value is sealed, even
// one that already looks like a token, so the struct must hold plaintext.
//
// v is changed only if every field seals; on error it is left as it was.
func SealFields(ctx context.Context, c *Cipher, subjectID string, v any) error {
	return sealFields(ctx, c.Seal, subjectID, v)
}

func sealFields(ctx context.Context, seal func(context.Context, string, string) (string, error), subjectID string, v any) error {
	fields, err := collectFields(v)
	if err != nil {
		return err
	}
	sealed := make([]string, len(fields))
	for i, f := range fields {
		if f.value.String() == "" {
			continue
		}
		if sealed[i], err = seal(ctx, subjectID, f.value.String()); err != nil {
			return fmt.Errorf("pii: seal field %s: %w", f.path, err)
		}
	}
	for i, f := range fields {
		if f.value.String() != "" {
			f.value.SetString(sealed[i])
		}
	}
	return nil
}

// OpenFields reverses [SealFields]: every non-empty field tagged
// `pii:"true"` must hold a token, which is replaced by its plaintext. Fields
// of an erased subject become [Erased] instead of failing, so a replay or a
// projection rebuild goes on after an erasure. Each token names its own
// subject, so a struct may mix subjects (a transfer between two accounts).
//
// Any other failure (a tampered or malformed token, a subject unknown to the
// keyring, a keyring error) is returned, and v is left as it was.
func OpenFields(ctx context.Context, c *Cipher, v any) error {
	fields, err := collectFields(v)
	if err != nil {
		return err
	}
	cache := keyCache{}
	opened := make([]string, len(fields))
	for i, f := range fields {
		token := f.value.String()
		if token == "" {
			continue
		}
		plain, err := c.open(ctx, token, cache)
		switch {
		case err == nil:
			opened[i] = plain
		case errors.Is(err, ErrErased):
			opened[i] = Erased
		default:
			return fmt.Errorf("pii: open field %s: %w", f.path, err)
		}
	}
	for i, f := range fields {
		if f.value.String() != "" {
			f.value.SetString(opened[i])
		}
	}
	return nil
}
