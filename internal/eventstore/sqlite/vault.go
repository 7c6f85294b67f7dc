package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// writeVault applies an append's claims, releases, credentials and data keys inside its
// transaction. Releases go first, so an append may move a claim (an email
// change releases the old value and claims the new one).
func writeVault(ctx context.Context, tx wtx, p *eventstore.AppendParams, now time.Time) error {
	for _, c := range p.Releases {
		if _, err := tx.ExecContext(ctx, sqlReleaseClaim,
			c.Scope, c.Value, c.Owner); err != nil {
			return fmt.Errorf("sqlite: release %s claim: %w", c.Scope, err)
		}
	}
	for _, c := range p.Claims {
		if _, err := tx.ExecContext(ctx, sqlInsertClaim, c.Scope, c.Value, c.Owner); err != nil {
			return fmt.Errorf("sqlite: claim %s: %w", c.Scope, err)
		}
		var owner string
		if err := tx.QueryRowContext(ctx, sqlClaimOwner,
			c.Scope, c.Value).Scan(&owner); err != nil {
			return fmt.Errorf("sqlite: claim %s: %w", c.Scope, err)
		}
		if owner != c.Owner {
			return &eventstore.ClaimConflictError{Scope: c.Scope, Value: c.Value, Owner: owner}
		}
	}
	for _, c := range p.Credentials {
		if _, err := tx.ExecContext(ctx, sqlPutCredential,
			c.Subject, c.Secret, micros(now)); err != nil {
			return fmt.Errorf("sqlite: store credential: %w", err)
		}
	}
	for _, k := range p.DataKeys {
		res, err := tx.ExecContext(ctx, sqlInsertDataKey, k.Subject, k.Wrapped, micros(now))
		if err != nil {
			return fmt.Errorf("sqlite: store data key of %s: %w", k.Subject, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(fmt.Errorf("data key of %s: %w", k.Subject, eventstore.ErrDataKeyExists), err)
		}
	}
	return nil
}

// ClaimOwner implements eventstore.Vault.
func (s *Store) ClaimOwner(ctx context.Context, scope, value string) (string, error) {
	var owner string
	err := s.readDB.QueryRowContext(ctx, sqlClaimOwner, scope, value).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%s claim: %w", scope, eventstore.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: read %s claim: %w", scope, err)
	}
	return owner, nil
}

// Credential implements eventstore.Vault.
func (s *Store) Credential(ctx context.Context, subject string) ([]byte, error) {
	return s.blob(ctx, `SELECT secret FROM credentials WHERE subject = ?`, "credential", subject)
}

// DataKey implements eventstore.Vault.
func (s *Store) DataKey(ctx context.Context, subject string) ([]byte, error) {
	return dataKey(ctx, s.readDB, subject)
}

func dataKey(ctx context.Context, q querier, subject string) ([]byte, error) {
	var wrapped []byte
	var erased sql.NullInt64
	err := q.QueryRowContext(ctx, sqlDataKey, subject).Scan(&wrapped, &erased)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("data key of %s: %w", subject, eventstore.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("sqlite: read data key of %s: %w", subject, err)
	case erased.Valid:
		return nil, fmt.Errorf("data key of %s: %w", subject, eventstore.ErrErased)
	}
	return wrapped, nil
}

func (s *Store) blob(ctx context.Context, query, what, subject string) ([]byte, error) {
	var b []byte
	err := s.readDB.QueryRowContext(ctx, query, subject).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s of %s: %w", what, subject, eventstore.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read %s of %s: %w", what, subject, err)
	}
	return b, nil
}

// PutDataKey implements eventstore.Vault.
func (s *Store) PutDataKey(ctx context.Context, subject string, wrapped []byte) ([]byte, error) {
	if subject == "" || len(wrapped) == 0 {
		return nil, &eventstore.ValidationError{Field: "data_key", Reason: "subject and key are required"}
	}
	var stored []byte
	err := s.write(ctx, false, func(ctx context.Context, tx wtx) error {
		if _, err := tx.ExecContext(ctx, sqlInsertDataKey, subject, wrapped, micros(time.Now())); err != nil {
			return fmt.Errorf("sqlite: store data key: %w", err)
		}
		var err error
		stored, err = dataKey(ctx, tx, subject)
		return err
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// DeleteDataKey implements eventstore.Vault.
func (s *Store) DeleteDataKey(ctx context.Context, subject string) error {
	return s.write(ctx, false, func(ctx context.Context, tx wtx) error {
		now := micros(time.Now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO data_keys (subject, wrapped, created_at, erased_at) VALUES (?, NULL, ?, ?)
			ON CONFLICT (subject) DO UPDATE SET wrapped = NULL, erased_at = COALESCE(data_keys.erased_at, excluded.erased_at)`,
			subject, now, now); err != nil {
			return fmt.Errorf("sqlite: erase data key of %s: %w", subject, err)
		}
		return nil
	})
}
