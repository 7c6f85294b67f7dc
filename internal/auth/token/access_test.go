package token_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bluepoint/bluepoint/internal/auth/token"
)

func TestAccessRoundTrip(t *testing.T) {
	clk := newClock()
	m, _ := newManager(t, stores[0], clk)
	p, err := m.Issue(context.Background(), "acc-1", "officer")
	if err != nil {
		t.Fatal(err)
	}
	if p.ExpiresIn != 15*time.Minute {
		t.Errorf("ExpiresIn = %v, want the 15 minute default", p.ExpiresIn)
	}
	clk.Advance(14 * time.Minute)
	got, err := m.Verify(p.AccessToken)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if want := (token.Claims{Subject: "acc-1", Role: "officer"}); got != want {
		t.Errorf("Verify = %+v, want %+v", got, want)
	}
}

func TestIssueNeedsSubjectAndRole(t *testing.T) {
	m, _ := newManager(t, stores[0], newClock())
	for _, args := range [][2]string{{"", "civilian"}, {"acc-1", ""}} {
		if _, err := m.Issue(context.Background(), args[0], args[1]); err == nil {
			t.Errorf("Issue(%q, %q) succeeded", args[0], args[1])
		}
	}
}

// TestVerifyRefuses checks every way an access token must be refused.
// Forged tokens are signed with the real key unless the point is the key.
func TestVerifyRefuses(t *testing.T) {
	clk := newClock()
	m, cfg := newManager(t, stores[0], clk)
	key := readKey(t, cfg.Dir)
	kid := kidOf(t, m)
	ctx := context.Background()
	p, err := m.Issue(ctx, "acc-1", "civilian")
	if err != nil {
		t.Fatal(err)
	}

	now := clk.Now()
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": "bluepoint", "aud": "bluepoint-api", "sub": "acc-1", "role": "staff",
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		}
	}
	sign := func(method jwt.SigningMethod, signKey any, claims jwt.MapClaims, header map[string]any) string {
		t.Helper()
		tok := jwt.NewWithClaims(method, claims)
		tok.Header["typ"] = "at+jwt"
		tok.Header["kid"] = kid
		for k, v := range header {
			if v == nil {
				delete(tok.Header, k)
			} else {
				tok.Header[k] = v
			}
		}
		s, err := tok.SignedString(signKey)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	with := func(k string, v any) jwt.MapClaims {
		c := valid()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)

	// The forgery helper itself must make tokens that pass, or the cases
	// below would pass for the wrong reason.
	if _, err := m.Verify(sign(jwt.SigningMethodEdDSA, key, valid(), nil)); err != nil {
		t.Fatalf("a well-formed forged token is refused: %v", err)
	}

	tests := []struct {
		name   string
		raw    string
		reason error // the jwt sentinel, when there is one
	}{
		{"HS256 keyed with the public key", sign(jwt.SigningMethodHS256, []byte(pub), valid(), nil), jwt.ErrTokenSignatureInvalid},
		{"HS256 keyed with the published x", sign(jwt.SigningMethodHS256, []byte(base64.RawURLEncoding.EncodeToString(pub)), valid(), nil), jwt.ErrTokenSignatureInvalid},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid(), nil), jwt.ErrTokenSignatureInvalid},
		{"another key", sign(jwt.SigningMethodEdDSA, otherKey, valid(), nil), jwt.ErrTokenSignatureInvalid},
		{"another key id", sign(jwt.SigningMethodEdDSA, key, valid(), map[string]any{"kid": "other"}), jwt.ErrTokenUnverifiable},
		{"no typ", sign(jwt.SigningMethodEdDSA, key, valid(), map[string]any{"typ": nil}), jwt.ErrTokenUnverifiable},
		{"plain JWT typ", sign(jwt.SigningMethodEdDSA, key, valid(), map[string]any{"typ": "JWT"}), jwt.ErrTokenUnverifiable},
		{"wrong issuer", sign(jwt.SigningMethodEdDSA, key, with("iss", "someone-else"), nil), jwt.ErrTokenInvalidIssuer},
		{"no issuer", sign(jwt.SigningMethodEdDSA, key, with("iss", nil), nil), jwt.ErrTokenRequiredClaimMissing},
		{"wrong audience", sign(jwt.SigningMethodEdDSA, key, with("aud", "other-api"), nil), jwt.ErrTokenInvalidAudience},
		{"no audience", sign(jwt.SigningMethodEdDSA, key, with("aud", nil), nil), jwt.ErrTokenRequiredClaimMissing},
		{"no exp", sign(jwt.SigningMethodEdDSA, key, with("exp", nil), nil), jwt.ErrTokenRequiredClaimMissing},
		{"expired", sign(jwt.SigningMethodEdDSA, key, with("exp", now.Add(-time.Second).Unix()), nil), jwt.ErrTokenExpired},
		{"not yet valid", sign(jwt.SigningMethodEdDSA, key, with("nbf", now.Add(time.Minute).Unix()), nil), jwt.ErrTokenNotValidYet},
		{"no subject", sign(jwt.SigningMethodEdDSA, key, with("sub", nil), nil), nil},
		{"no role", sign(jwt.SigningMethodEdDSA, key, with("role", nil), nil), nil},
		{"tampered payload", tamper(t, p.AccessToken), jwt.ErrTokenSignatureInvalid},
		{"refresh token", p.RefreshToken, jwt.ErrTokenMalformed},
		{"empty", "", jwt.ErrTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := m.Verify(tt.raw)
			if !errors.Is(err, token.ErrInvalid) {
				t.Fatalf("Verify = %+v, %v; want ErrInvalid", c, err)
			}
			if tt.reason != nil && !errors.Is(err, tt.reason) {
				t.Errorf("Verify error %q does not wrap %q", err, tt.reason)
			}
		})
	}
}

func TestAccessTokenExpires(t *testing.T) {
	clk := newClock()
	m, _ := newManager(t, stores[0], clk)
	p, err := m.Issue(context.Background(), "acc-1", "merchant")
	if err != nil {
		t.Fatal(err)
	}
	// Verified once, so the second check meets it in the cache of
	// verified tokens, which must not outlive the token.
	clk.Advance(15*time.Minute - time.Second)
	if _, err := m.Verify(p.AccessToken); err != nil {
		t.Fatalf("Verify a second before expiry: %v", err)
	}
	clk.Advance(2 * time.Second)
	if _, err := m.Verify(p.AccessToken); !errors.Is(err, token.ErrInvalid) || !errors.Is(err, jwt.ErrTokenExpired) {
		t.Fatalf("Verify of an expired token = %v, want ErrInvalid and jwt.ErrTokenExpired", err)
	}
}

// TestOtherIssuerOrAudienceRefused: a deployment sharing the key but naming
// itself differently must not accept the first one's tokens.
func TestOtherIssuerOrAudienceRefused(t *testing.T) {
	clk := newClock()
	m, cfg := newManager(t, stores[0], clk)
	p, err := m.Issue(context.Background(), "acc-1", "charity")
	if err != nil {
		t.Fatal(err)
	}
	for _, change := range []func(*token.Config){
		func(c *token.Config) { c.Issuer = "elsewhere" },
		func(c *token.Config) { c.Audience = "other-api" },
	} {
		c := cfg
		change(&c)
		other, _, err := token.New(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Verify(p.AccessToken); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("Verify by issuer %q audience %q = %v, want ErrInvalid", c.Issuer, c.Audience, err)
		}
	}
}

// tamper changes the role in a token's payload, keeping its signature.
func tamper(t *testing.T, raw string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(payload), `"role":"civilian"`, `"role":"staff"`, 1)
	if changed == string(payload) {
		t.Fatalf("no role to change in %s", payload)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(changed))
	return strings.Join(parts, ".")
}

// BenchmarkVerify checks the same access token again and again, as a
// client's requests do.
//
//	go test -run '^$' -bench Verify ./internal/auth/token/
func BenchmarkVerify(b *testing.B) {
	m, _ := newManager(b, stores[0], newClock())
	p, err := m.Issue(context.Background(), "acc-1", "civilian")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Verify(p.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}
