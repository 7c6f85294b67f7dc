// Package password hashes and verifies account passwords with argon2id.
//
// Hashes are stored in the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash), so the parameters travel with
// each hash and can be raised later without breaking existing logins.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Length bounds for a password, in characters.
const (
	MinLength = 8
	MaxLength = 128
)

// ErrMismatch says the password does not match the hash.
var ErrMismatch = errors.New("password does not match")

// PolicyError says why a password is not acceptable.
type PolicyError struct{ Reason string }

func (e *PolicyError) Error() string { return "password " + e.Reason }

// Params are argon2id's cost parameters.
type Params struct {
	Time    uint32 // iterations
	Memory  uint32 // KiB
	Threads uint8
	SaltLen int
	KeyLen  uint32
}

// DefaultParams follow the OWASP minimum for argon2id (19 MiB, t=2, p=1):
// about 30 ms per hash on one core (BenchmarkHashDefault).
var DefaultParams = Params{Time: 2, Memory: 19 * 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

// Hasher hashes passwords. Each hash holds Params.Memory while it runs, so a
// Hasher lets only a few run at once: a burst of sign-ups or logins queues
// instead of exhausting memory.
type Hasher struct {
	params Params
	slots  chan struct{}
}

// NewHasher returns a Hasher running at most concurrency hashes at a time;
// 0 means half the CPUs the process may use (GOMAXPROCS, which follows a
// container's CPU limit), at least one. A hash keeps a CPU busy for about
// 30 ms (DefaultParams), so that default leaves the other half to every other
// request during a wave of sign-ups and sign-ins, and it holds the memory
// of the hashes under way, and the garbage they leave, to that many (on 2
// cores, `bluepoint bench` measured the embedded server's peak under load
// at 161-178 MB against 207-223 MB with one per CPU). Sign-ups then queue
// for a slot sooner: their tail latency is the price.
func NewHasher(p Params, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = defaultConcurrency(runtime.GOMAXPROCS(0))
	}
	return &Hasher{params: p, slots: make(chan struct{}, concurrency)}
}

// defaultConcurrency is half of cpus, at least one.
func defaultConcurrency(cpus int) int { return max(1, cpus/2) }

// CheckPolicy reports whether a password is acceptable.
func CheckPolicy(pw string) error {
	if !utf8.ValidString(pw) {
		return &PolicyError{Reason: "must be valid UTF-8"}
	}
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinLength:
		return &PolicyError{Reason: fmt.Sprintf("must be at least %d characters long", MinLength)}
	case n > MaxLength:
		return &PolicyError{Reason: fmt.Sprintf("must be at most %d characters long", MaxLength)}
	case strings.TrimSpace(pw) == "":
		return &PolicyError{Reason: "must not be only spaces"}
	}
	return nil
}

// Hash checks the policy and returns the PHC-encoded argon2id hash.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := CheckPolicy(pw); err != nil {
		return "", err
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key, err := h.derive(ctx, pw, salt, h.params)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.Memory, h.params.Time, h.params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify returns nil when pw matches encoded, ErrMismatch when it does not,
// and another error when encoded is not a hash this package understands.
func (h *Hasher) Verify(ctx context.Context, encoded, pw string) error {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return err
	}
	got, err := h.derive(ctx, pw, salt, p)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

func (h *Hasher) derive(ctx context.Context, pw string, salt []byte, p Params) ([]byte, error) {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to hash a password: %w", ctx.Err())
	}
	defer func() { <-h.slots }()
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// maxMemory refuses stored hashes that would make one verification take
// more than 256 MiB: a tampered hash must not exhaust memory.
const maxMemory = 256 * 1024

func decode(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, errors.New("password hash: not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("password hash: unsupported version %q", parts[2])
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, fmt.Errorf("password hash: parameters %q: %w", parts[3], err)
	}
	if p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > 10 || p.Threads == 0 {
		return Params{}, nil, nil, fmt.Errorf("password hash: parameters %q out of range", parts[3])
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Params{}, nil, nil, errors.New("password hash: bad salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return Params{}, nil, nil, errors.New("password hash: bad key")
	}
	p.KeyLen = uint32(len(key))
	p.SaltLen = len(salt)
	return p, salt, key, nil
}
