package pii

import (
	"errors"
	"fmt"
)

// ErrErased says that the subject's data key was deleted, so its personal
// data is gone for good. Readers show [Erased] in its place instead of failing.
var ErrErased = errors.New("pii: personal data erased")

// ErrNoKey says that a [Keyring] holds no data key for a subject and never
// erased one: either the subject has not sealed anything yet, or a token
// names a subject this keyring does not know (a forged token or a lost
// keyring), which is worth an alert rather than a silent "erased".
var ErrNoKey = errors.New("pii: no data key for subject")

// ErrMalformedToken says that a string is not a well-formed sealed token.
var ErrMalformedToken = errors.New("pii: malformed token")

// ErrTampered says that a token is well-formed but does not authenticate
// under its subject's data key: it was altered, or relabelled to another
// subject.
var ErrTampered = errors.New("pii: token does not authenticate")

// ErrWrappedKey says that a wrapped data key does not unwrap under the master
// key and subject it was presented with: a different master key is in use,
// the key was moved to another subject, or the stored bytes are damaged.
var ErrWrappedKey = errors.New("pii: wrapped data key does not authenticate")

// ErrBadMasterKey says that master key material is unusable: bad base64,
// wrong length, or a key file whose permissions let others read it.
var ErrBadMasterKey = errors.New("pii: bad master key")

// ErrInvalidSubject says that a subject id is empty, too long, or holds a
// character a token cannot carry.
var ErrInvalidSubject = errors.New("pii: invalid subject id")

// TokenError says why a token could not be opened, keeping the subject (when
// it could be parsed) so an operator can find the owner. Err is
// [ErrMalformedToken] or [ErrTampered].
type TokenError struct {
	Subject string
	Reason  string
	Err     error
}

func (e *TokenError) Error() string {
	if e.Subject == "" {
		return fmt.Sprintf("%v: %s", e.Err, e.Reason)
	}
	return fmt.Sprintf("%v: subject %q: %s", e.Err, e.Subject, e.Reason)
}

// Unwrap exposes the sentinel, for errors.Is(err, ErrTampered) and friends.
func (e *TokenError) Unwrap() error { return e.Err }
