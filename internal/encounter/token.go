// Package encounter issues and verifies encounter tokens: the signed,
// short-lived proof that a civilian met a police officer.
//
// A civilian asks for a token and shows it, usually as a QR code (see
// QRPNG), to an officer, who submits it to record an interaction that earns
// both of them points. The token therefore has to be unforgeable (it is
// signed with an Ed25519 key only the server holds), short-lived (it expires
// TTL after issue, five minutes by default, so it cannot be hoarded or
// passed around), and small enough to scan comfortably from a phone screen.
//
// Single use is deliberately not enforced here: this package is pure and
// keeps no state. Verify returns the token's ID, and the caller must claim
// that ID uniquely in the event store in the same write that records the
// interaction; a second submission of the same token then fails on the claim.
package encounter

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultTTL is how long a token stays valid when Issuer.TTL is zero: long
// enough to walk up to an officer and be scanned, short enough that a
// screenshot is useless later.
const DefaultTTL = 5 * time.Minute

// ClockSkew is how far past its expiry a token is still accepted, so that a
// verifying server whose clock runs slightly ahead of the issuing one does
// not reject a token the civilian was just shown as valid.
const ClockSkew = 30 * time.Second

// MaxSubjectLen bounds a civilian ID that is not a canonical UUID (those are
// packed into 16 bytes), keeping every token under MaxTokenLen characters.
const MaxSubjectLen = 40

// MaxTokenLen is an upper bound on the length of any token value, small
// enough for a low-version QR code that phones scan at a glance.
const MaxTokenLen = 200

// Errors returned by Verify and Issue. Verify wraps them with detail; test
// with errors.Is.
var (
	// ErrMalformed: the value is not a token at all (empty, truncated,
	// garbage, bad encoding). The client sent the wrong thing.
	ErrMalformed = errors.New("encounter token is malformed")
	// ErrBadSignature: the value parses but was not signed by this server's
	// key, either forged or altered, or issued by another deployment.
	ErrBadSignature = errors.New("encounter token signature is invalid")
	// ErrExpired: a genuine token used after its expiry plus ClockSkew; the
	// civilian should request a new one.
	ErrExpired = errors.New("encounter token has expired")
	// ErrUnsupportedVersion: the token uses a format version this build
	// does not know, for example one issued by a newer release.
	ErrUnsupportedVersion = errors.New("encounter token version is not supported")
	// ErrInvalidSubject: Issue was given an empty, non-UTF-8 or too long
	// civilian ID.
	ErrInvalidSubject = errors.New("encounter token civilian id is invalid")
	// ErrNoKey: the Issuer has no usable Ed25519 private key.
	ErrNoKey = errors.New("encounter issuer has no valid ed25519 key")
)

// Token is a freshly issued encounter token. Value is what the civilian
// shows (and what QRPNG encodes); the other fields are returned alongside so
// the API can report the expiry without parsing Value.
type Token struct {
	ID         string    // random 128-bit id, base64url; claimed once on use
	CivilianID string    // the account the token was issued to
	IssuedAt   time.Time // whole seconds, UTC
	ExpiresAt  time.Time // whole seconds, UTC
	Value      string    // compact signed form, see the payload layout
}

// Claims is what Verify learned from a genuine, unexpired token. ID is the
// value to claim uniquely in the event store to make the token single use.
type Claims struct {
	ID         string
	CivilianID string
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// Issuer signs and verifies encounter tokens with one Ed25519 key. The zero
// TTL and nil Now mean DefaultTTL and time.Now, so a test can fix the clock.
// An Issuer is safe for concurrent use as long as its fields are not changed.
type Issuer struct {
	Key ed25519.PrivateKey
	TTL time.Duration
	Now func() time.Time
}

var b64 = base64.RawURLEncoding.Strict()

func (i *Issuer) now() time.Time {
	if i.Now != nil {
		return i.Now()
	}
	return time.Now()
}

func (i *Issuer) publicKey() (ed25519.PublicKey, error) {
	if len(i.Key) != ed25519.PrivateKeySize {
		return nil, ErrNoKey
	}
	return i.Key.Public().(ed25519.PublicKey), nil
}

// Issue creates a token for civilianID valid from now for the Issuer's TTL.
// Times are truncated to whole seconds, which is all the token carries.
func (i *Issuer) Issue(civilianID string) (Token, error) {
	if len(i.Key) != ed25519.PrivateKeySize {
		return Token{}, ErrNoKey
	}
	ttl := i.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	var id [idLen]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Token{}, fmt.Errorf("encounter: random token id: %w", err)
	}
	iat := i.now().UTC().Truncate(time.Second)
	exp := iat.Add(ttl).Truncate(time.Second)
	if !exp.After(iat) {
		exp = iat.Add(time.Second)
	}
	payload, err := marshalPayload(id, civilianID, iat.Unix(), exp.Unix())
	if err != nil {
		return Token{}, err
	}
	sig := ed25519.Sign(i.Key, payload)
	return Token{
		ID:         b64.EncodeToString(id[:]),
		CivilianID: civilianID,
		IssuedAt:   iat,
		ExpiresAt:  exp,
		Value:      b64.EncodeToString(payload) + "." + b64.EncodeToString(sig),
	}, nil
}

// Verify checks that value is a token this Issuer's key signed and that it
// has not expired (allowing ClockSkew), and returns its claims. It never
// panics. Verify does not know whether the token was already used: the
// caller must claim Claims.ID uniquely when recording the interaction.
//
// Checks run in this order, so the error names the first thing wrong:
// shape and encoding (ErrMalformed), version (ErrUnsupportedVersion),
// signature (ErrBadSignature), then expiry (ErrExpired). The payload is only
// parsed after its signature is verified.
func (i *Issuer) Verify(value string) (Claims, error) {
	pub, err := i.publicKey()
	if err != nil {
		return Claims{}, err
	}
	if value == "" || len(value) > 2*MaxTokenLen {
		return Claims{}, fmt.Errorf("%w: length %d", ErrMalformed, len(value))
	}
	p64, s64, ok := strings.Cut(value, ".")
	if !ok {
		return Claims{}, fmt.Errorf("%w: missing signature part", ErrMalformed)
	}
	payload, err := b64.DecodeString(p64)
	if err != nil || len(payload) == 0 {
		return Claims{}, fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	sig, err := b64.DecodeString(s64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Claims{}, fmt.Errorf("%w: signature is not a base64url ed25519 signature", ErrMalformed)
	}
	if payload[0] != version1 {
		return Claims{}, fmt.Errorf("%w: version %d", ErrUnsupportedVersion, payload[0])
	}
	if !ed25519.Verify(pub, payload, sig) {
		return Claims{}, ErrBadSignature
	}
	c, err := unmarshalPayload(payload)
	if err != nil {
		return Claims{}, err
	}
	if i.now().After(c.ExpiresAt.Add(ClockSkew)) {
		return Claims{}, fmt.Errorf("%w: expired at %s", ErrExpired, c.ExpiresAt.Format(time.RFC3339))
	}
	return c, nil
}
