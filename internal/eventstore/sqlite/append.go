package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, p *eventstore.AppendParams) (*eventstore.AppendResult, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := p.Validate(now); err != nil {
		return nil, err
	}
	var result *eventstore.AppendResult
	err := s.write(ctx, true, func(ctx context.Context, tx wtx) error {
		var err error
		result, err = appendTx(ctx, tx, p, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return result, nil
}

func appendTx(ctx context.Context, tx wtx, p *eventstore.AppendParams, now time.Time) (*eventstore.AppendResult, error) {
	result := &eventstore.AppendResult{}
	for _, sa := range p.Streams {
		var version int64
		err := tx.QueryRowContext(ctx, sqlVersion, sa.StreamID).Scan(&version)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read version of %s: %w", sa.StreamID, err)
		}
		if sa.Expected != eventstore.Any && int64(sa.Expected) != version {
			return nil, &eventstore.ConcurrencyError{StreamID: sa.StreamID, Expected: sa.Expected, Actual: version}
		}
		category := eventstore.Category(sa.StreamID)
		for _, e := range sa.Events {
			version++
			meta, err := json.Marshal(e.Metadata)
			if err != nil {
				return nil, fmt.Errorf("sqlite: encode metadata: %w", err)
			}
			res, err := tx.ExecContext(ctx, sqlInsertEvent,
				e.ID.String(), sa.StreamID, version, category, e.Type, e.SchemaVersion, string(e.Data), string(meta), micros(now))
			if err != nil {
				return nil, fmt.Errorf("sqlite: insert event into %s: %w", sa.StreamID, err)
			}
			pos, err := res.LastInsertId()
			if err != nil {
				return nil, fmt.Errorf("sqlite: event position: %w", err)
			}
			if _, err := tx.ExecContext(ctx, sqlInsertOutbox, pos); err != nil {
				return nil, fmt.Errorf("sqlite: insert outbox row: %w", err)
			}
			result.Events = append(result.Events, eventstore.Event{
				ID: e.ID, StreamID: sa.StreamID, StreamVersion: version,
				Position: eventstore.Position{Global: pos}, Type: e.Type, SchemaVersion: e.SchemaVersion,
				Data: e.Data, Metadata: e.Metadata, RecordedAt: now,
			})
		}
	}
	if err := writeVault(ctx, tx, p, now); err != nil {
		return nil, err
	}
	if r := p.Idempotency; r != nil {
		if err := insertIdempotency(ctx, tx, r); err != nil {
			return nil, err
		}
	}
	if err := insertTraceSteps(ctx, tx, p.TraceSteps); err != nil {
		return nil, err
	}
	return result, nil
}

func insertIdempotency(ctx context.Context, tx wtx, r *eventstore.IdempotencyRecord) error {
	var response any
	if r.Response != nil {
		response = string(r.Response)
	}
	res, err := tx.ExecContext(ctx, sqlInsertIdempotency,
		r.Key, r.Fingerprint, r.Status, response, micros(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: insert idempotency record: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: insert idempotency record: %w", err)
	} else if n == 0 {
		existing, err := idempotency(ctx, tx, r.Key)
		if err != nil {
			return err
		}
		return &eventstore.IdempotencyConflictError{Key: r.Key, Existing: existing}
	}
	return nil
}

func insertTraceSteps(ctx context.Context, tx wtx, steps []eventstore.TraceStep) error {
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, sqlInsertTraceStep,
			st.TraceID, st.Step, st.Status, st.Detail, micros(st.At)); err != nil {
			return fmt.Errorf("sqlite: insert trace step: %w", err)
		}
	}
	return nil
}

// RecordTraceSteps implements eventstore.Store.
func (s *Store) RecordTraceSteps(ctx context.Context, steps []eventstore.TraceStep) error {
	if err := eventstore.ValidateTraceSteps(steps, time.Now().UTC()); err != nil {
		return err
	}
	if len(steps) == 0 {
		return nil
	}
	return s.writeUnsynced(ctx, func(ctx context.Context, tx wtx) error {
		return insertTraceSteps(ctx, tx, steps)
	})
}

// MarkSent implements eventstore.Store.
func (s *Store) MarkSent(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	now := micros(time.Now())
	return s.writeUnsynced(ctx, func(ctx context.Context, tx wtx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, sqlMarkSent, now, id); err != nil {
				return fmt.Errorf("sqlite: mark outbox row %d sent: %w", id, err)
			}
		}
		return nil
	})
}

// MarkSentThenPending implements eventstore.Store: in process, the two
// calls cost no round trip.
func (s *Store) MarkSentThenPending(ctx context.Context, ids []int64, limit int) ([]eventstore.OutboxEntry, error) {
	if err := s.MarkSent(ctx, ids); err != nil {
		return nil, err
	}
	return s.PendingOutbox(ctx, limit)
}

// PruneOutbox implements eventstore.Store.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, false, func(ctx context.Context, tx wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?`, micros(before))
		if err != nil {
			return fmt.Errorf("sqlite: prune outbox: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// PruneTraceSteps implements eventstore.Store.
func (s *Store) PruneTraceSteps(ctx context.Context, before time.Time, limit int) (int64, error) {
	var n int64
	err := s.write(ctx, false, func(ctx context.Context, tx wtx) error {
		// The oldest steps up to the first young one, both found along the
		// primary key from its low end.
		res, err := tx.ExecContext(ctx, `DELETE FROM trace_steps WHERE id IN (
			SELECT id FROM trace_steps
			WHERE id < (SELECT coalesce(min(id), 9223372036854775807) FROM trace_steps WHERE at >= ?)
			ORDER BY id LIMIT ?)`, micros(before), limit)
		if err != nil {
			return fmt.Errorf("sqlite: prune trace steps: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func idempotency(ctx context.Context, q querier, key string) (*eventstore.IdempotencyRecord, error) {
	var (
		r        = eventstore.IdempotencyRecord{Key: key}
		response sql.NullString
		created  int64
	)
	err := q.QueryRowContext(ctx, sqlIdempotency, key).
		Scan(&r.Fingerprint, &r.Status, &response, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("idempotency key %q: %w", key, eventstore.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read idempotency record: %w", err)
	}
	if response.Valid {
		r.Response = json.RawMessage(response.String)
	}
	r.CreatedAt = fromMicros(created)
	return &r, nil
}
