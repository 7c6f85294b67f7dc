package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// queueVault queues an append's releases, claims, credentials and data keys. Releases
// go first, so an append may move a claim (an email change releases the old
// value and claims the new one).
func queueVault(b *pgx.Batch, p *eventstore.AppendParams, now time.Time) {
	for _, c := range p.Releases {
		b.Queue(`DELETE FROM claims WHERE scope = $1 AND value = $2 AND owner = $3`, c.Scope, c.Value, c.Owner)
	}
	for _, c := range p.Claims {
		// DO UPDATE (not DO NOTHING) acts on the latest committed row, even
		// one committed after this statement began: a claim held by another
		// owner returns no row, one already ours returns one.
		b.Queue(`INSERT INTO claims (scope, value, owner) VALUES ($1, $2, $3)
			ON CONFLICT (scope, value) DO UPDATE SET owner = claims.owner WHERE claims.owner = $3
			RETURNING 1`, c.Scope, c.Value, c.Owner)
	}
	for _, c := range p.Credentials {
		b.Queue(`INSERT INTO credentials (subject, secret, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (subject) DO UPDATE SET secret = excluded.secret, updated_at = excluded.updated_at`,
			c.Subject, c.Secret, now)
	}
	for _, k := range p.DataKeys {
		// A concurrent insert of the subject makes this one wait for its
		// commit, then do nothing.
		b.Queue(`INSERT INTO data_keys (subject, wrapped, created_at) VALUES ($1, $2, $3) ON CONFLICT (subject) DO NOTHING`,
			k.Subject, k.Wrapped, now)
	}
}

// readVault reads the results queueVault queued, in order.
func readVault(br pgx.BatchResults, p *eventstore.AppendParams) (*failure, error) {
	for _, c := range p.Releases {
		if _, err := br.Exec(); err != nil {
			return nil, fmt.Errorf("postgres: release %s claim: %w", c.Scope, err)
		}
	}
	for i, c := range p.Claims {
		rows, err := br.Query()
		if err != nil {
			return nil, fmt.Errorf("postgres: claim %s: %w", c.Scope, err)
		}
		ok := rows.Next()
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("postgres: claim %s: %w", c.Scope, err)
		}
		if !ok {
			return &failure{claim: &p.Claims[i]}, nil
		}
	}
	for range p.Credentials {
		if _, err := br.Exec(); err != nil {
			return nil, fmt.Errorf("postgres: store credential: %w", err)
		}
	}
	for i, k := range p.DataKeys {
		tag, err := br.Exec()
		if err != nil {
			return nil, fmt.Errorf("postgres: store data key of %s: %w", k.Subject, err)
		}
		if tag.RowsAffected() == 0 {
			return &failure{dataKey: &p.DataKeys[i]}, nil
		}
	}
	return nil, nil
}

// ClaimOwner implements eventstore.Vault.
func (s *Store) ClaimOwner(ctx context.Context, scope, value string) (string, error) {
	var owner string
	err := s.pool.QueryRow(ctx, `SELECT owner FROM claims WHERE scope = $1 AND value = $2`, scope, value).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("%s claim: %w", scope, eventstore.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("postgres: read %s claim: %w", scope, err)
	}
	return owner, nil
}

// Credential implements eventstore.Vault.
func (s *Store) Credential(ctx context.Context, subject string) ([]byte, error) {
	return s.blob(ctx, `SELECT secret FROM credentials WHERE subject = $1`, "credential", subject)
}

// DataKey implements eventstore.Vault.
func (s *Store) DataKey(ctx context.Context, subject string) ([]byte, error) {
	var wrapped []byte
	var erased *time.Time
	err := s.pool.QueryRow(ctx, `SELECT wrapped, erased_at FROM data_keys WHERE subject = $1`, subject).Scan(&wrapped, &erased)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("data key of %s: %w", subject, eventstore.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("postgres: read data key of %s: %w", subject, err)
	case erased != nil:
		return nil, fmt.Errorf("data key of %s: %w", subject, eventstore.ErrErased)
	}
	return wrapped, nil
}

func (s *Store) blob(ctx context.Context, query, what, subject string) ([]byte, error) {
	var b []byte
	err := s.pool.QueryRow(ctx, query, subject).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%s of %s: %w", what, subject, eventstore.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read %s of %s: %w", what, subject, err)
	}
	return b, nil
}

// PutDataKey implements eventstore.Vault.
func (s *Store) PutDataKey(ctx context.Context, subject string, wrapped []byte) ([]byte, error) {
	if subject == "" || len(wrapped) == 0 {
		return nil, &eventstore.ValidationError{Field: "data_key", Reason: "subject and key are required"}
	}
	// The no-op update makes the statement return the stored row whether this
	// call inserted it or a concurrent one did (or it is a tombstone).
	var stored []byte
	var erased *time.Time
	err := s.pool.QueryRow(ctx, `INSERT INTO data_keys (subject, wrapped, created_at) VALUES ($1, $2, now())
		ON CONFLICT (subject) DO UPDATE SET subject = data_keys.subject RETURNING wrapped, erased_at`,
		subject, wrapped).Scan(&stored, &erased)
	if err != nil {
		return nil, fmt.Errorf("postgres: store data key of %s: %w", subject, err)
	}
	if erased != nil {
		return nil, fmt.Errorf("data key of %s: %w", subject, eventstore.ErrErased)
	}
	return stored, nil
}

// DeleteDataKey implements eventstore.Vault.
func (s *Store) DeleteDataKey(ctx context.Context, subject string) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO data_keys (subject, wrapped, created_at, erased_at) VALUES ($1, NULL, now(), now())
		ON CONFLICT (subject) DO UPDATE SET wrapped = NULL, erased_at = COALESCE(data_keys.erased_at, now())`, subject); err != nil {
		return fmt.Errorf("postgres: erase data key of %s: %w", subject, err)
	}
	return nil
}
