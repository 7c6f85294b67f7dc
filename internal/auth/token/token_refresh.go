package token

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The refresh-token table. One DDL serves both dialects: times are Unix
// milliseconds, so comparisons need no dialect-specific date handling.
// Only the SHA-256 of a token is stored, so a leaked table grants nothing.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS auth_refresh_tokens (
		id         TEXT PRIMARY KEY,
		family     TEXT NOT NULL,
		subject    TEXT NOT NULL,
		role       TEXT NOT NULL,
		issued_at  BIGINT NOT NULL,
		expires_at BIGINT NOT NULL,
		used_at    BIGINT,
		revoked    BOOLEAN NOT NULL DEFAULT FALSE
	)`,
	`CREATE INDEX IF NOT EXISTS auth_refresh_tokens_family ON auth_refresh_tokens (family)`,
	`CREATE INDEX IF NOT EXISTS auth_refresh_tokens_subject ON auth_refresh_tokens (subject)`,
	`CREATE INDEX IF NOT EXISTS auth_refresh_tokens_expires ON auth_refresh_tokens (expires_at)`,
}

// pruneEvery is how often Issue deletes expired refresh tokens.
const pruneEvery = time.Hour

func (m *Manager) createTable(ctx context.Context) error {
	// A role that may not create tables (least privilege) finds the table
	// made by a migration, so probe before creating.
	if _, err := m.cfg.DB.ExecContext(ctx, `SELECT 1 FROM auth_refresh_tokens, auth_revocations WHERE 1 = 0`); err == nil {
		return nil
	}
	tx, err := m.cfg.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if m.cfg.Postgres {
		// Concurrent CREATE ... IF NOT EXISTS can still collide in the
		// catalog on Postgres when several processes start together.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('auth_refresh_tokens'))`); err != nil {
			return err
		}
	}
	for _, stmt := range append(schema, revocationSchema...) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertRefresh stores a new refresh token of family and returns it.
func (m *Manager) insertRefresh(ctx context.Context, db execer, family, subject, role string) (string, error) {
	// 256 bits: unguessable however many tokens are live.
	raw, err := randomString(32)
	if err != nil {
		return "", err
	}
	now := m.cfg.Now()
	_, err = db.ExecContext(ctx, m.bind(`INSERT INTO auth_refresh_tokens
		(id, family, subject, role, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
		hash(raw), family, subject, role, now.UnixMilli(), now.Add(m.cfg.RefreshTTL).UnixMilli())
	if err != nil {
		return "", fmt.Errorf("store refresh token: %w", err)
	}
	return raw, nil
}

// Rotate spends a refresh token and returns a new pair in its family, with
// the claims it was issued for.
//
// Spending is one conditional UPDATE, so of two concurrent calls with one
// token exactly one succeeds. The other is a reuse like any other: it
// returns ErrReused and revokes the family, including the token the winner
// just received. Clients must therefore not refresh concurrently.
func (m *Manager) Rotate(ctx context.Context, refresh string) (Claims, Pair, error) {
	id := hash(refresh)
	now := m.cfg.Now().UnixMilli()
	tx, err := m.cfg.DB.BeginTx(ctx, nil)
	if err != nil {
		return Claims{}, Pair{}, fmt.Errorf("token: rotate: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	res, err := tx.ExecContext(ctx, m.bind(`UPDATE auth_refresh_tokens SET used_at = ?
		WHERE id = ? AND used_at IS NULL AND revoked = FALSE AND expires_at > ?`), now, id, now)
	if err != nil {
		return Claims{}, Pair{}, fmt.Errorf("token: rotate: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return Claims{}, Pair{}, fmt.Errorf("token: rotate: %w", err)
	} else if n != 1 {
		tx.Rollback() //nolint:errcheck // nothing was written
		return Claims{}, Pair{}, m.refused(ctx, id, now)
	}
	var family string
	var c Claims
	if err := tx.QueryRowContext(ctx, m.bind(`SELECT family, subject, role FROM auth_refresh_tokens WHERE id = ?`), id).
		Scan(&family, &c.Subject, &c.Role); err != nil {
		return Claims{}, Pair{}, fmt.Errorf("token: rotate: %w", err)
	}
	next, err := m.insertRefresh(ctx, tx, family, c.Subject, c.Role)
	if err != nil {
		return Claims{}, Pair{}, fmt.Errorf("token: rotate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Claims{}, Pair{}, fmt.Errorf("token: rotate: %w", err)
	}
	p, err := m.pair(c, next)
	return c, p, err
}

// refused says why the token with hash id could not be spent, revoking its
// family when it had been spent before.
func (m *Manager) refused(ctx context.Context, id string, now int64) error {
	var family string
	var expires int64
	var used sql.NullInt64
	var revoked bool
	err := m.cfg.DB.QueryRowContext(ctx, m.bind(`SELECT family, expires_at, used_at, revoked
		FROM auth_refresh_tokens WHERE id = ?`), id).Scan(&family, &expires, &used, &revoked)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: unknown refresh token", ErrInvalid)
	case err != nil:
		return fmt.Errorf("token: rotate: %w", err)
	case used.Valid:
		if _, err := m.cfg.DB.ExecContext(ctx, m.bind(`UPDATE auth_refresh_tokens SET revoked = TRUE
			WHERE family = ? AND revoked = FALSE`), family); err != nil {
			return fmt.Errorf("token: rotate: revoke reused family: %w", err)
		}
		return fmt.Errorf("%w: %w: its session is revoked", ErrReused, ErrInvalid)
	case revoked:
		return fmt.Errorf("%w: refresh token revoked", ErrInvalid)
	case expires <= now:
		return fmt.Errorf("%w: refresh token expired", ErrInvalid)
	}
	// Unreachable unless the row changed between the two statements; the
	// client may simply try again.
	return fmt.Errorf("%w: refresh token changed concurrently", ErrInvalid)
}

// pruneExpired deletes expired refresh tokens, at most once per pruneEvery
// per Manager. Failure is harmless (expired tokens are refused anyway) and
// must not block a sign-in, so it is not reported.
func (m *Manager) pruneExpired(ctx context.Context) {
	now := m.cfg.Now()
	next := m.nextPrune.Load()
	if now.UnixNano() < next || !m.nextPrune.CompareAndSwap(next, now.Add(pruneEvery).UnixNano()) {
		return
	}
	_, _ = m.cfg.DB.ExecContext(ctx, m.bind(`DELETE FROM auth_refresh_tokens WHERE expires_at <= ?`), now.UnixMilli())
	m.pruneRevocations(ctx, now)
}

// bind rewrites ? placeholders as $1, $2, ... on Postgres. The queries here
// have no ? inside literals.
func (m *Manager) bind(query string) string {
	if !m.cfg.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hash(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("token: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
