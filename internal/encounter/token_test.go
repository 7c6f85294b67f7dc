package encounter

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const civilian = "0193a5c2-7c1e-7d3a-9b2f-4e5d6c7b8a90"

func testKey(t testing.TB, b byte) ed25519.PrivateKey {
	t.Helper()
	k, err := KeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// clock is a settable fake time source.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newIssuer(t testing.TB) (*Issuer, *clock) {
	c := &clock{now: t0}
	return &Issuer{Key: testKey(t, 1), Now: c.Now}, c
}

func TestRoundTrip(t *testing.T) {
	iss, c := newIssuer(t)
	for _, sub := range []string{civilian, "civ-42", strings.Repeat("é", MaxSubjectLen/2), "0193A5C2-7C1E-7D3A-9B2F-4E5D6C7B8A90"} {
		tok, err := iss.Issue(sub)
		if err != nil {
			t.Fatalf("Issue(%q): %v", sub, err)
		}
		if tok.CivilianID != sub || !tok.IssuedAt.Equal(t0) || !tok.ExpiresAt.Equal(t0.Add(DefaultTTL)) {
			t.Fatalf("token = %+v", tok)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(tok.ID); err != nil || len(raw) != 16 {
			t.Fatalf("id %q is not 128-bit base64url", tok.ID)
		}
		c.now = t0.Add(DefaultTTL) // still valid at the exact expiry
		got, err := iss.Verify(tok.Value)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		want := Claims{ID: tok.ID, CivilianID: sub, IssuedAt: tok.IssuedAt, ExpiresAt: tok.ExpiresAt}
		if got != want {
			t.Fatalf("claims = %+v, want %+v", got, want)
		}
		c.now = t0
	}
}

func TestIDsAreUnique(t *testing.T) {
	iss, _ := newIssuer(t)
	seen := map[string]bool{}
	for range 1000 {
		tok, err := iss.Issue(civilian)
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok.ID] || seen[tok.Value] {
			t.Fatalf("duplicate token %s", tok.ID)
		}
		seen[tok.ID], seen[tok.Value] = true, true
	}
}

func TestExpired(t *testing.T) {
	iss, c := newIssuer(t)
	iss.TTL = time.Minute
	tok, err := iss.Issue(civilian)
	if err != nil {
		t.Fatal(err)
	}
	c.now = t0.Add(time.Minute + ClockSkew) // within the skew allowance
	if _, err := iss.Verify(tok.Value); err != nil {
		t.Fatalf("within skew: %v", err)
	}
	c.now = c.now.Add(time.Second)
	if _, err := iss.Verify(tok.Value); !errors.Is(err, ErrExpired) {
		t.Fatalf("after skew: err = %v, want ErrExpired", err)
	}
}

func TestForgedSubjectFailsSignature(t *testing.T) {
	iss, _ := newIssuer(t)
	tok, err := iss.Issue("civ-aaaa")
	if err != nil {
		t.Fatal(err)
	}
	p64, s64, _ := strings.Cut(tok.Value, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(p64)
	forged := bytes.Replace(payload, []byte("civ-aaaa"), []byte("civ-bbbb"), 1)
	value := base64.RawURLEncoding.EncodeToString(forged) + "." + s64
	if _, err := iss.Verify(value); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("err = %v, want ErrBadSignature", err)
	}
	// Flipping one signature bit fails too.
	sig, _ := base64.RawURLEncoding.DecodeString(s64)
	sig[10] ^= 1
	value = p64 + "." + base64.RawURLEncoding.EncodeToString(sig)
	if _, err := iss.Verify(value); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("err = %v, want ErrBadSignature", err)
	}
}

func TestOtherKeyFailsSignature(t *testing.T) {
	iss, c := newIssuer(t)
	other := &Issuer{Key: testKey(t, 2), Now: c.Now}
	tok, err := other.Issue(civilian)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Verify(tok.Value); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("err = %v, want ErrBadSignature", err)
	}
}

func TestUnsupportedVersion(t *testing.T) {
	iss, _ := newIssuer(t)
	tok, _ := iss.Issue(civilian)
	p64, s64, _ := strings.Cut(tok.Value, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(p64)
	payload[0] = 2
	value := base64.RawURLEncoding.EncodeToString(payload) + "." + s64
	if _, err := iss.Verify(value); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("err = %v, want ErrUnsupportedVersion", err)
	}
}

func TestMalformed(t *testing.T) {
	iss, _ := newIssuer(t)
	tok, _ := iss.Issue(civilian)
	bad := []string{
		"", ".", "abc", "abc.", ".abc", "!!!.???", "a.b.c", "AQ.AQ",
		tok.Value + "A", tok.Value + ".x", " " + tok.Value, strings.Repeat("A", 10000),
		strings.ReplaceAll(tok.Value, "-", "+"), // standard base64 alphabet
	}
	for n := range len(tok.Value) {
		bad = append(bad, tok.Value[:n])
	}
	for _, v := range bad {
		if v == tok.Value {
			continue
		}
		if _, err := iss.Verify(v); !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) = %v, want ErrMalformed", v, err)
		}
	}
}

func TestTokenLength(t *testing.T) {
	iss, _ := newIssuer(t)
	iss.TTL = 100 * 365 * 24 * time.Hour // large times do not grow the token
	for _, sub := range []string{civilian, strings.Repeat("x", MaxSubjectLen), strings.Repeat("€", MaxSubjectLen/3)} {
		tok, err := iss.Issue(sub)
		if err != nil {
			t.Fatal(err)
		}
		if len(tok.Value) >= MaxTokenLen {
			t.Errorf("token for %d-byte subject is %d chars, want < %d", len(sub), len(tok.Value), MaxTokenLen)
		}
		t.Logf("%d-byte subject: %d chars", len(sub), len(tok.Value))
	}
}

func TestIssueRejects(t *testing.T) {
	iss, _ := newIssuer(t)
	for _, sub := range []string{"", strings.Repeat("x", MaxSubjectLen+1), "\xff\xfe"} {
		if _, err := iss.Issue(sub); !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("Issue(%q): err = %v, want ErrInvalidSubject", sub, err)
		}
	}
	var none Issuer
	if _, err := none.Issue(civilian); !errors.Is(err, ErrNoKey) {
		t.Errorf("Issue without key: %v", err)
	}
	if _, err := none.Verify("a.b"); !errors.Is(err, ErrNoKey) {
		t.Errorf("Verify without key: %v", err)
	}
}
