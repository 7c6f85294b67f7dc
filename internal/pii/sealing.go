package pii

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
)

// NewKey is a data key a [Sealing] made for a subject the keyring had no key
// for. It is not stored: the caller stores it in the same transaction as
// what was sealed with it, and if another writer stored a key for the
// subject first, throws away both and seals again.
type NewKey struct {
	Subject string
	Wrapped []byte
}

// Sealing seals the personal fields of one operation (one command's
// events). It reads each subject's key once, and makes the keys of new
// subjects without storing them, so that a new account costs no commit of
// its own: [Sealing.NewKeys] go with the events. Like the Cipher it caches
// nothing beyond the operation. It is not safe for concurrent use.
type Sealing struct {
	c     *Cipher
	aeads map[string]cipher.AEAD
	made  []NewKey
	fresh map[string]bool
}

// Sealing starts an operation's sealing.
func (c *Cipher) Sealing() *Sealing {
	return &Sealing{c: c, aeads: map[string]cipher.AEAD{}}
}

// Fresh says that subjectID was made up by this operation (a new random
// id), so the keyring is not asked for its key: a new one is made. The key
// goes with the sealed data as any new key does, and a store that holds
// one for the subject already refuses it.
func (s *Sealing) Fresh(subjectID string) {
	if s.fresh == nil {
		s.fresh = map[string]bool{}
	}
	s.fresh[subjectID] = true
}

// NewKeys returns the keys made for new subjects, in the order they were
// made: they must be stored (and only stored) with what was sealed.
func (s *Sealing) NewKeys() []NewKey { return s.made }

// Seal is [Cipher.Seal] within the operation.
func (s *Sealing) Seal(ctx context.Context, subjectID, plaintext string) (string, error) {
	if err := validateSubject(subjectID); err != nil {
		return "", err
	}
	aead, err := s.aead(ctx, subjectID)
	if err != nil {
		return "", err
	}
	return seal(aead, subjectID, plaintext)
}

func (s *Sealing) aead(ctx context.Context, subjectID string) (cipher.AEAD, error) {
	if a := s.aeads[subjectID]; a != nil {
		return a, nil
	}
	var dk DataKey
	var wrapped []byte
	err := ErrNoKey
	if !s.fresh[subjectID] {
		wrapped, err = s.c.keys.Get(ctx, subjectID)
	}
	switch {
	case err == nil:
		if dk, err = s.c.wrap.unwrap(subjectID, wrapped); err != nil {
			return nil, err
		}
	case errors.Is(err, ErrErased):
		return nil, fmt.Errorf("%w: subject %q", ErrErased, subjectID)
	case errors.Is(err, ErrNoKey):
		if dk, err = NewDataKey(); err != nil {
			return nil, err
		}
		if wrapped, err = s.c.wrap.wrap(subjectID, dk); err != nil {
			return nil, err
		}
		s.made = append(s.made, NewKey{Subject: subjectID, Wrapped: wrapped})
	default:
		return nil, fmt.Errorf("pii: data key of subject %q: %w", subjectID, err)
	}
	a, err := newGCM(dk[:])
	if err != nil {
		return nil, err
	}
	s.aeads[subjectID] = a
	return a, nil
}

// SealValue is the package's [SealValue] within the operation: a copy of v
// with its personal fields sealed for subjectID.
func (s *Sealing) SealValue(ctx context.Context, subjectID string, v any) (any, error) {
	return onCopy(v, func(p any) error { return sealFields(ctx, s.Seal, subjectID, p) })
}
