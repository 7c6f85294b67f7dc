// Package token issues and checks the credentials of the API: short-lived
// access tokens and single-use refresh tokens.
//
// Access tokens are JWTs signed with Ed25519 (EdDSA). They are checked
// without a database round trip, so every API replica can verify them from
// the public key alone; that is also why they stay valid until they expire
// (15 minutes by default) even after the account's refresh tokens are
// revoked.
//
// Refresh tokens are opaque random strings kept, as SHA-256 hashes, in one
// SQL table shared by every process of a deployment. Each is single use:
// refreshing spends it and returns a new one in the same family. Presenting
// a spent token again means two parties hold it (one of them a thief), so
// the whole family is revoked and both must sign in again.
package token

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// ErrInvalid says a token cannot be accepted: malformed, badly signed,
// signed with another algorithm, for another issuer or audience, expired,
// revoked, or unknown. Errors wrap it together with the reason.
var ErrInvalid = errors.New("invalid token")

// ErrReused says a refresh token was presented after it had been spent. The
// whole family is revoked. Errors that wrap ErrReused also wrap ErrInvalid,
// so an edge that only knows ErrInvalid still refuses the request.
var ErrReused = errors.New("refresh token reused")

// Claims is who a verified access token speaks for.
type Claims struct {
	Subject string // account id
	Role    string // the account kind: civilian, officer, merchant, charity, family, or staff
}

// Pair is what a sign-in or a refresh returns.
type Pair struct {
	AccessToken  string
	ExpiresIn    time.Duration // the access token's lifetime
	RefreshToken string
}

// Config configures a Manager.
type Config struct {
	// Dir is the secrets directory. The Ed25519 signing key lives in
	// Dir/jwt.key (mode 0600) and is created on first start. Every process
	// of a deployment must see the same key. Required.
	Dir string
	// Issuer is the "iss" of access tokens. Default "bluepoint".
	Issuer string
	// Audience is the "aud" of access tokens. Default "bluepoint-api".
	Audience string
	// AccessTTL is the lifetime of an access token. Default 15 minutes.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of a refresh token; each refresh starts a
	// new one. Default 30 days.
	RefreshTTL time.Duration
	// DB stores refresh tokens, shared by every process of a deployment.
	// On SQLite it should have a busy timeout, as rotation writes. Required.
	DB *sql.DB
	// Postgres is the dialect of DB: false means SQLite.
	Postgres bool
	// SyncEvery is how often a Manager reads the sessions other processes
	// ended, which bounds how long an ended session still works there.
	// Default 1 second.
	SyncEvery time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// WithDefaults returns the config with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Issuer == "" {
		c.Issuer = "bluepoint"
	}
	if c.Audience == "" {
		c.Audience = "bluepoint-api"
	}
	if c.AccessTTL == 0 {
		c.AccessTTL = 15 * time.Minute
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = 30 * 24 * time.Hour
	}
	if c.SyncEvery == 0 {
		c.SyncEvery = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports the first problem with a config that has its defaults.
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return errors.New("token: secrets directory is required")
	case c.DB == nil:
		return errors.New("token: database is required")
	case c.AccessTTL < 0 || c.RefreshTTL < 0 || c.SyncEvery < 0:
		return errors.New("token: lifetimes and intervals must be positive")
	}
	return nil
}

// Manager issues, verifies and rotates tokens. It is safe for concurrent use.
type Manager struct {
	cfg  Config
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
	kid  string
	jwks []byte

	// nextPrune is when Issue next deletes expired refresh tokens (Unix
	// nanoseconds), so the table stays the size of the live sessions
	// without a background job.
	nextPrune atomic.Int64

	// revoked maps an account to when its sessions were last ended (Unix
	// milliseconds), for the access tokens' lifetime; nextSync is when it is
	// next read from the database (Unix nanoseconds).
	revokedMu sync.RWMutex
	revoked   map[string]int64
	nextSync  atomic.Int64

	// verified remembers the tokens Verify checked, by their text.
	verified *lru.Cache[string, verifiedToken]
}

// New loads the signing key from cfg.Dir, creating it when there is none
// (created reports that), and creates the refresh-token table if missing.
func New(ctx context.Context, cfg Config) (m *Manager, created bool, err error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, false, err
	}
	priv, created, err := loadOrCreateKey(cfg.Dir)
	if err != nil {
		return nil, false, err
	}
	verified, err := lru.New[string, verifiedToken](verifiedTokens)
	if err != nil {
		return nil, false, fmt.Errorf("token: %w", err)
	}
	m = &Manager{cfg: cfg, priv: priv, pub: priv.Public().(ed25519.PublicKey), revoked: map[string]int64{}, verified: verified}
	m.kid = thumbprint(m.pub)
	if m.jwks, err = jwks(m.pub, m.kid); err != nil {
		return nil, false, err
	}
	if err := m.createTable(ctx); err != nil {
		return nil, false, fmt.Errorf("token: refresh table: %w", err)
	}
	return m, created, nil
}

// JWKS returns the JSON Web Key Set that verifies access tokens, for
// /.well-known/jwks.json.
func (m *Manager) JWKS() []byte { return append([]byte(nil), m.jwks...) }

// Issue starts a new session for an account: an access token and the first
// refresh token of a new family.
func (m *Manager) Issue(ctx context.Context, subject, role string) (Pair, error) {
	if subject == "" || role == "" {
		return Pair{}, errors.New("token: issue: subject and role are required")
	}
	m.pruneExpired(ctx)
	family, err := randomString(16)
	if err != nil {
		return Pair{}, err
	}
	refresh, err := m.insertRefresh(ctx, m.cfg.DB, family, subject, role)
	if err != nil {
		return Pair{}, fmt.Errorf("token: issue: %w", err)
	}
	return m.pair(Claims{Subject: subject, Role: role}, refresh)
}

func (m *Manager) pair(c Claims, refresh string) (Pair, error) {
	access, err := m.sign(c)
	if err != nil {
		return Pair{}, err
	}
	return Pair{AccessToken: access, ExpiresIn: m.cfg.AccessTTL, RefreshToken: refresh}, nil
}
