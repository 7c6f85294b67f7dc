package pii

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Erased is what a reader shows in place of a personal field whose subject
// was erased; [OpenFields] writes it instead of failing, so projections and
// replays keep working after an erasure.
const Erased = "[erased]"

// Cipher seals and opens personal values with per-subject data keys kept in
// a [Keyring] and wrapped by the master key. It is safe for concurrent use.
//
// It caches no data keys between calls: an erasure made by another process
// takes effect on the next Open, which is the point of crypto-shredding. A
// cache, if ever needed for speed, must be short-lived and dropped on Erase.
type Cipher struct {
	keys Keyring
	wrap keyWrapper
}

// NewCipher returns a Cipher that wraps data keys with master and stores them
// in keys.
func NewCipher(master MasterKey, keys Keyring) (*Cipher, error) {
	if keys == nil {
		return nil, errors.New("pii: NewCipher: nil Keyring")
	}
	w, err := newKeyWrapper(master)
	if err != nil {
		return nil, err
	}
	return &Cipher{keys: keys, wrap: w}, nil
}

// Seal encrypts plaintext for subjectID and returns a self-describing token
// "pii:v1:<subject>:<base64url(nonce|ciphertext)>". The subject's data key is
// created on first use; concurrent first uses agree on one key through
// [Keyring.Put]. Sealing for an erased subject fails with [ErrErased]: its
// id stays shredded rather than quietly gaining a new key.
//
// Each call uses a fresh random 96-bit nonce, which with one key per subject
// stays far below the number of messages at which GCM nonces could collide.
func (c *Cipher) Seal(ctx context.Context, subjectID, plaintext string) (string, error) {
	if err := validateSubject(subjectID); err != nil {
		return "", err
	}
	aead, err := c.subjectAEAD(ctx, subjectID, true)
	if err != nil {
		return "", err
	}
	return seal(aead, subjectID, plaintext)
}

// seal encrypts plaintext for subjectID under the subject's AEAD.
func seal(aead cipher.AEAD, subjectID, plaintext string) (string, error) {
	out := make([]byte, gcmNonceSize, gcmNonceSize+len(plaintext)+gcmTagSize)
	if _, err := rand.Read(out); err != nil {
		return "", fmt.Errorf("pii: seal nonce: %w", err)
	}
	out = aead.Seal(out, out, []byte(plaintext), []byte(aadField+subjectID))
	return formatToken(subjectID, out), nil
}

// Open decrypts a token made by [Cipher.Seal]. It returns an error matching
// [ErrErased] if the subject was erased, a [*TokenError] ([ErrMalformedToken]
// or [ErrTampered]) for a token that is not well-formed or does not
// authenticate, and an error matching [ErrNoKey] if the keyring has never
// heard of the subject. It never panics, whatever the input.
func (c *Cipher) Open(ctx context.Context, token string) (string, error) {
	return c.open(ctx, token, nil)
}

// keyCache memoizes per-subject keys within one operation (one OpenFields
// call), never across operations.
type keyCache map[string]aeadOrErr

type aeadOrErr struct {
	aead cipher.AEAD
	err  error
}

func (c *Cipher) open(ctx context.Context, token string, cache keyCache) (string, error) {
	subjectID, sealed, err := parseToken(token)
	if err != nil {
		return "", err
	}
	r, ok := cache[subjectID]
	if !ok {
		r.aead, r.err = c.subjectAEAD(ctx, subjectID, false)
		if cache != nil {
			cache[subjectID] = r
		}
	}
	if r.err != nil {
		return "", r.err
	}
	nonce, ciphertext := sealed[:gcmNonceSize], sealed[gcmNonceSize:]
	plain, err := r.aead.Open(nil, nonce, ciphertext, []byte(aadField+subjectID))
	if err != nil {
		return "", &TokenError{Subject: subjectID, Reason: "ciphertext or subject altered", Err: ErrTampered}
	}
	return string(plain), nil
}

// Erase deletes the subject's data key. Every token sealed for the subject,
// wherever it is stored, then opens as [ErrErased]; the ciphertexts may stay
// in place, as they are now noise. Erasing is idempotent and cannot be undone.
func (c *Cipher) Erase(ctx context.Context, subjectID string) error {
	if err := validateSubject(subjectID); err != nil {
		return err
	}
	if err := c.keys.Delete(ctx, subjectID); err != nil {
		return fmt.Errorf("pii: erase subject %q: %w", subjectID, err)
	}
	return nil
}

// subjectAEAD loads (and, if create, first makes) the subject's data key and
// returns an AEAD keyed with it.
func (c *Cipher) subjectAEAD(ctx context.Context, subjectID string, create bool) (cipher.AEAD, error) {
	wrapped, err := c.keys.Get(ctx, subjectID)
	switch {
	case err == nil:
	case errors.Is(err, ErrErased):
		return nil, fmt.Errorf("%w: subject %q", ErrErased, subjectID)
	case errors.Is(err, ErrNoKey) && create:
		if wrapped, err = c.createKey(ctx, subjectID); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("pii: data key of subject %q: %w", subjectID, err)
	}
	dk, err := c.wrap.unwrap(subjectID, wrapped)
	if err != nil {
		return nil, err
	}
	return newGCM(dk[:])
}

// createKey makes a data key and offers it to the keyring, returning the
// wrapped key that won: ours, or a concurrent caller's.
func (c *Cipher) createKey(ctx context.Context, subjectID string) ([]byte, error) {
	dk, err := NewDataKey()
	if err != nil {
		return nil, err
	}
	wrapped, err := c.wrap.wrap(subjectID, dk)
	if err != nil {
		return nil, err
	}
	stored, err := c.keys.Put(ctx, subjectID, wrapped)
	if errors.Is(err, ErrErased) {
		return nil, fmt.Errorf("%w: subject %q", ErrErased, subjectID)
	}
	if err != nil {
		return nil, fmt.Errorf("pii: store data key of subject %q: %w", subjectID, err)
	}
	return stored, nil
}
