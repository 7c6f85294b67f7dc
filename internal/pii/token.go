package pii

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Token layout: "pii:v1:<subject>:<base64url(nonce|ciphertext)>". The token
// names its subject so that a reader needs no side information to find the
// data key, and carries a version so the format can change without
// ambiguity. The subject is also bound in as additional data, so editing the
// label does not move a token to another subject.
const (
	tokenPrefix   = "pii:"
	tokenVersion1 = "v1"
	tokenV1Prefix = tokenPrefix + tokenVersion1 + ":"
	gcmNonceSize  = 12
	gcmTagSize    = 16
)

// MaxSubjectLen bounds subject ids, which are stream or account ids.
const MaxSubjectLen = 128

// Strict decoding rejects non-zero padding bits, so each token has exactly
// one spelling.
var b64 = base64.RawURLEncoding.Strict()

// validateSubject accepts 1 to MaxSubjectLen printable ASCII characters
// other than ':', which separates the parts of a token.
func validateSubject(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty", ErrInvalidSubject)
	}
	if len(id) > MaxSubjectLen {
		return fmt.Errorf("%w: %d bytes, at most %d allowed", ErrInvalidSubject, len(id), MaxSubjectLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == ':' {
			return fmt.Errorf("%w: %q has byte %#x at %d; allowed are printable ASCII other than ':' and space", ErrInvalidSubject, id, c, i)
		}
	}
	return nil
}

func formatToken(subjectID string, nonceAndCiphertext []byte) string {
	return tokenV1Prefix + subjectID + ":" + b64.EncodeToString(nonceAndCiphertext)
}

// parseToken splits a token into its subject and nonce|ciphertext. It checks
// form only; authenticity is checked when opening.
func parseToken(token string) (subjectID string, sealed []byte, err error) {
	malformed := func(subject, reason string) (string, []byte, error) {
		return "", nil, &TokenError{Subject: subject, Reason: reason, Err: ErrMalformedToken}
	}
	if !strings.HasPrefix(token, tokenPrefix) {
		return malformed("", "missing \"pii:\" prefix")
	}
	if !strings.HasPrefix(token, tokenV1Prefix) {
		return malformed("", "unsupported version; this program reads pii:v1 tokens")
	}
	rest := token[len(tokenV1Prefix):]
	subjectID, payload, ok := strings.Cut(rest, ":")
	if !ok {
		return malformed("", "missing ':' after the subject")
	}
	if err := validateSubject(subjectID); err != nil {
		return malformed("", err.Error())
	}
	sealed, err = b64.DecodeString(payload)
	if err != nil {
		return malformed(subjectID, "payload is not base64url: "+err.Error())
	}
	if len(sealed) < gcmNonceSize+gcmTagSize {
		return malformed(subjectID, fmt.Sprintf("payload is %d bytes, shorter than nonce and tag", len(sealed)))
	}
	return subjectID, sealed, nil
}

// IsSealed reports whether s has the form of a sealed token. It does not
// check that the token authenticates; [Cipher.Open] does that.
func IsSealed(s string) bool {
	_, _, err := parseToken(s)
	return err == nil
}

// TokenSubject returns the subject a well-formed token claims to belong to,
// for instance to erase or audit it, without opening it.
func TokenSubject(token string) (string, error) {
	subjectID, _, err := parseToken(token)
	return subjectID, err
}
