package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
)

// DataKey encrypts the personal fields of one subject. It exists in the
// clear only in memory; at rest it is always wrapped by the master key (see
// [Wrap]). Deleting the wrapped copy is what erases the subject.
type DataKey [KeySize]byte

// String keeps the key out of logs and error messages.
func (DataKey) String() string { return "pii.DataKey(redacted)" }

// GoString keeps the key out of %#v output too.
func (DataKey) GoString() string { return "pii.DataKey(redacted)" }

// NewDataKey returns a fresh random data key.
func NewDataKey() (DataKey, error) {
	var k DataKey
	if _, err := rand.Read(k[:]); err != nil {
		return DataKey{}, fmt.Errorf("pii: generate data key: %w", err)
	}
	return k, nil
}

// Domain-separation labels: each derived key and each kind of additional
// data has its own, so no ciphertext or hash made for one purpose is ever
// accepted for another.
const (
	infoWrapKey     = "bluepoint/pii/wrap-key/v1"
	infoBlindIndex  = "bluepoint/pii/blind-index/v1/"
	aadDataKey      = "bluepoint/pii/data-key/v1\x00"
	aadField        = "bluepoint/pii/field/v1\x00"
	wrappedVersion1 = 1
)

// wrappedSize is version byte, nonce, encrypted key and GCM tag.
const wrappedSize = 1 + 12 + KeySize + 16

// deriveKey derives a 32-byte key for one purpose from the master key. It is
// HKDF-Expand (RFC 5869) with SHA-256 for a single output block, using the
// master key, which is uniformly random, directly as the pseudorandom key.
func deriveKey(master MasterKey, info string) []byte {
	mac := hmac.New(sha256.New, master[:])
	mac.Write([]byte(info))
	mac.Write([]byte{1})
	return mac.Sum(nil)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("pii: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("pii: %w", err)
	}
	return aead, nil
}

// keyWrapper wraps and unwraps data keys under one master key; a [Cipher]
// keeps one so it does not rederive the wrapping key on every call.
type keyWrapper struct{ aead cipher.AEAD }

func newKeyWrapper(master MasterKey) (keyWrapper, error) {
	aead, err := newGCM(deriveKey(master, infoWrapKey))
	return keyWrapper{aead}, err
}

func (w keyWrapper) wrap(subjectID string, dk DataKey) ([]byte, error) {
	if err := validateSubject(subjectID); err != nil {
		return nil, err
	}
	out := make([]byte, 1+w.aead.NonceSize(), wrappedSize)
	out[0] = wrappedVersion1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("pii: wrap nonce: %w", err)
	}
	return w.aead.Seal(out, out[1:], dk[:], []byte(aadDataKey+subjectID)), nil
}

func (w keyWrapper) unwrap(subjectID string, wrapped []byte) (DataKey, error) {
	if len(wrapped) != wrappedSize || wrapped[0] != wrappedVersion1 {
		return DataKey{}, fmt.Errorf("%w: subject %q: %d bytes, unknown format", ErrWrappedKey, subjectID, len(wrapped))
	}
	nonce := wrapped[1 : 1+w.aead.NonceSize()]
	plain, err := w.aead.Open(nil, nonce, wrapped[1+len(nonce):], []byte(aadDataKey+subjectID))
	if err != nil {
		return DataKey{}, fmt.Errorf("%w: subject %q", ErrWrappedKey, subjectID)
	}
	var dk DataKey
	copy(dk[:], plain)
	return dk, nil
}

// Wrap encrypts a data key under the master key (AES-256-GCM with a key
// derived from it) for storage in a [Keyring]. The subject id is bound in as
// additional data, so a wrapped key copied to another subject's row does not
// unwrap.
func Wrap(master MasterKey, subjectID string, dk DataKey) ([]byte, error) {
	w, err := newKeyWrapper(master)
	if err != nil {
		return nil, err
	}
	return w.wrap(subjectID, dk)
}

// Unwrap reverses [Wrap]. It fails with [ErrWrappedKey] if the master key or
// subject differ from those used to wrap, or the bytes were altered.
func Unwrap(master MasterKey, subjectID string, wrapped []byte) (DataKey, error) {
	w, err := newKeyWrapper(master)
	if err != nil {
		return DataKey{}, err
	}
	return w.unwrap(subjectID, wrapped)
}
