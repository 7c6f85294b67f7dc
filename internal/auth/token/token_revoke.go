package token

import (
	"context"
	"fmt"
	"time"
)

// An ended session must stop working everywhere, not only when its access
// token expires. Access tokens are verified without a database round trip,
// so each Manager keeps the recent revocations in memory: its own at once,
// other processes' within SyncEvery. Only revocations younger than an access
// token's lifetime matter, since every older token has expired anyway, so
// the set stays as small as the number of accounts closed in that window.

var revocationSchema = []string{
	`CREATE TABLE IF NOT EXISTS auth_revocations (
		subject    TEXT PRIMARY KEY,
		revoked_at BIGINT NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS auth_revocations_at ON auth_revocations (revoked_at)`,
}

// syncMargin widens each sync's window backwards, so a revocation whose
// transaction committed after a later one (or on a clock slightly behind)
// is still seen.
const syncMargin = 30 * time.Second

// RevokeSubject ends every session of an account, as when it closes or is
// erased: its refresh tokens are revoked, and access tokens issued up to now
// are refused by this process at once and by every other process of the
// deployment within SyncEvery.
func (m *Manager) RevokeSubject(ctx context.Context, subject string) error {
	now := m.cfg.Now().UnixMilli()
	tx, err := m.cfg.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("token: revoke %s: %w", subject, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, m.bind(`UPDATE auth_refresh_tokens SET revoked = TRUE
		WHERE subject = ? AND revoked = FALSE`), subject); err != nil {
		return fmt.Errorf("token: revoke %s: %w", subject, err)
	}
	// Both dialects spell the upsert the same way.
	if _, err := tx.ExecContext(ctx, m.bind(`INSERT INTO auth_revocations (subject, revoked_at) VALUES (?, ?)
		ON CONFLICT (subject) DO UPDATE SET revoked_at = excluded.revoked_at`), subject, now); err != nil {
		return fmt.Errorf("token: revoke %s: %w", subject, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("token: revoke %s: %w", subject, err)
	}
	m.revokedMu.Lock()
	m.revoked[subject] = max(m.revoked[subject], now)
	m.revokedMu.Unlock()
	return nil
}

// revokedAt is when subject's sessions were last ended (Unix milliseconds),
// or 0.
func (m *Manager) revokedAt(subject string) int64 {
	m.syncRevocations()
	m.revokedMu.RLock()
	defer m.revokedMu.RUnlock()
	return m.revoked[subject]
}

// syncRevocations reads the revocations other processes recorded, at most
// once per SyncEvery. The caller that claims the turn pays for one indexed
// query; the others go on with what is known. A failed read keeps the set
// as it was and is retried on the next turn: refusing every request because
// the database blinked would be worse than a revocation seen late.
func (m *Manager) syncRevocations() {
	now := m.cfg.Now()
	next := m.nextSync.Load()
	if now.UnixNano() < next || !m.nextSync.CompareAndSwap(next, now.Add(m.cfg.SyncEvery).UnixNano()) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	since := now.Add(-m.cfg.AccessTTL - syncMargin).UnixMilli()
	rows, err := m.cfg.DB.QueryContext(ctx, m.bind(`SELECT subject, revoked_at FROM auth_revocations WHERE revoked_at > ?`), since)
	if err != nil {
		return
	}
	defer rows.Close()
	fresh := map[string]int64{}
	for rows.Next() {
		var subject string
		var at int64
		if err := rows.Scan(&subject, &at); err != nil {
			return
		}
		fresh[subject] = at
	}
	if rows.Err() != nil {
		return
	}
	m.revokedMu.Lock()
	defer m.revokedMu.Unlock()
	// Keep what this process revoked but the read missed (a commit that
	// raced the query), and drop what has aged out.
	for subject, at := range m.revoked {
		if at > since && at > fresh[subject] {
			fresh[subject] = at
		}
	}
	m.revoked = fresh
}

// pruneRevocations deletes revocations older than any live access token.
func (m *Manager) pruneRevocations(ctx context.Context, now time.Time) {
	_, _ = m.cfg.DB.ExecContext(ctx, m.bind(`DELETE FROM auth_revocations WHERE revoked_at <= ?`),
		now.Add(-m.cfg.AccessTTL-syncMargin).UnixMilli())
}
