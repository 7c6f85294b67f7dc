package token

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// accessType is the "typ" header of access tokens (RFC 9068), so that a JWT
// minted for another purpose with the same key is not taken for one.
const accessType = "at+jwt"

// accessClaims is the payload of an access token.
type accessClaims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

func (m *Manager) sign(c Claims) (string, error) {
	now := m.cfg.Now()
	jti, err := randomString(16)
	if err != nil {
		return "", err
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, accessClaims{
		Role: c.Role,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    m.cfg.Issuer,
			Subject:   c.Subject,
			Audience:  jwt.ClaimStrings{m.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(m.cfg.AccessTTL)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
	})
	t.Header["typ"] = accessType
	t.Header["kid"] = m.kid
	s, err := t.SignedString(m.priv)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return s, nil
}

// Verify checks an access token and returns whom it speaks for. Any failure
// wraps ErrInvalid together with the reason (the jwt package's sentinel,
// such as jwt.ErrTokenExpired, where there is one).
//
// A token verified before is found in a cache and not checked again: the
// Ed25519 signature check is most of the cost of a request's authentication,
// and a client sends the same token for its whole lifetime. Its expiry and
// the account's ended sessions are checked on every call all the same.
func (m *Manager) Verify(raw string) (Claims, error) {
	if v, ok := m.verified.Get(raw); ok {
		if m.cfg.Now().Before(v.expires) {
			return m.unlessEnded(v.claims, v.issuedAt)
		}
		// Verified again below, for the parser's own expiry error.
		m.verified.Remove(raw)
	}
	var c accessClaims
	_, err := jwt.ParseWithClaims(raw, &c, m.keyFor,
		// Pinning the algorithm is what stops "none" and HMAC-with-the-
		// public-key forgeries.
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(m.cfg.Issuer),
		jwt.WithAudience(m.cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(m.cfg.Now),
	)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if c.Subject == "" || c.Role == "" || c.IssuedAt == nil {
		return Claims{}, fmt.Errorf("%w: subject, role or issue time missing", ErrInvalid)
	}
	claims := Claims{Subject: c.Subject, Role: c.Role}
	m.verified.Add(raw, verifiedToken{claims: claims, issuedAt: c.IssuedAt.Unix(), expires: c.ExpiresAt.Time})
	return m.unlessEnded(claims, c.IssuedAt.Unix())
}

// verifiedToken is what Verify remembers of a token whose signature and
// claims it checked.
type verifiedToken struct {
	claims   Claims
	issuedAt int64 // Unix seconds
	expires  time.Time
}

// verifiedTokens bounds the cache of verified tokens: a few megabytes, and
// more than the clients active within a token's lifetime on one process.
const verifiedTokens = 8192

// unlessEnded returns the claims of a token issued at issuedAt unless the
// account's sessions were ended since. iat has whole seconds: a token from
// the second its session ended is refused too, which costs nothing, as an
// ended account cannot sign in.
func (m *Manager) unlessEnded(c Claims, issuedAt int64) (Claims, error) {
	if ended := m.revokedAt(c.Subject); ended > 0 && issuedAt <= ended/1000 {
		return Claims{}, fmt.Errorf("%w: the account's sessions were ended", ErrInvalid)
	}
	return c, nil
}

func (m *Manager) keyFor(t *jwt.Token) (any, error) {
	if typ, _ := t.Header["typ"].(string); typ != accessType {
		return nil, fmt.Errorf("type %q is not an access token", typ)
	}
	if kid, _ := t.Header["kid"].(string); kid != m.kid {
		return nil, errors.New("unknown key id")
	}
	return m.pub, nil
}
