package token

import (
	"errors"
	"fmt"

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
func (m *Manager) Verify(raw string) (Claims, error) {
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
	// iat has whole seconds: a token from the second its session ended is
	// refused too, which costs nothing, as an ended account cannot sign in.
	if ended := m.revokedAt(c.Subject); ended > 0 && c.IssuedAt.Unix() <= ended/1000 {
		return Claims{}, fmt.Errorf("%w: the account's sessions were ended", ErrInvalid)
	}
	return Claims{Subject: c.Subject, Role: c.Role}, nil
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
