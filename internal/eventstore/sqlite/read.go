package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

const eventColumns = `global_position, event_id, stream_id, stream_version, type, schema_version, data, metadata, recorded_at`

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, p *eventstore.ReadStreamParams) ([]eventstore.Event, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	limit := int64(p.Limit)
	if limit == 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.readDB.QueryContext(ctx, sqlReadStream, p.StreamID, p.FromVersion, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read stream %s: %w", p.StreamID, err)
	}
	return scanEvents(rows)
}

// StreamVersion implements eventstore.Store.
func (s *Store) StreamVersion(ctx context.Context, streamID string) (int64, error) {
	if err := eventstore.ValidateStreamID(streamID); err != nil {
		return 0, err
	}
	var v int64
	err := s.readDB.QueryRowContext(ctx, sqlVersion, streamID).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("sqlite: version of %s: %w", streamID, err)
	}
	return v, nil
}

// ReadAll implements eventstore.Store. With one writer, positions commit in
// order, so everything a reader can see below the newest position is final.
func (s *Store) ReadAll(ctx context.Context, p *eventstore.ReadAllParams) ([]eventstore.Event, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var (
		where = []string{"global_position > ?"}
		args  = []any{p.After.Global}
	)
	if len(p.Categories) > 0 {
		where = append(where, "category IN ("+placeholders(len(p.Categories))+")")
		for _, c := range p.Categories {
			args = append(args, c)
		}
	}
	if len(p.Types) > 0 {
		where = append(where, "type IN ("+placeholders(len(p.Types))+")")
		for _, t := range p.Types {
			args = append(args, t)
		}
	}
	args = append(args, p.Limit)
	rows, err := s.readDB.QueryContext(ctx,
		`SELECT `+eventColumns+` FROM events WHERE `+strings.Join(where, " AND ")+
			` ORDER BY global_position LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read all: %w", err)
	}
	return scanEvents(rows)
}

// Idempotency implements eventstore.Store.
func (s *Store) Idempotency(ctx context.Context, key string) (*eventstore.IdempotencyRecord, error) {
	return idempotency(ctx, s.readDB, key)
}

// PendingOutbox implements eventstore.Store.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]eventstore.OutboxEntry, error) {
	if limit <= 0 {
		limit = eventstore.DefaultReadAllLimit
	}
	rows, err := s.readDB.QueryContext(ctx,
		`SELECT o.id, e.global_position, e.event_id, e.stream_id, e.stream_version, e.type, e.schema_version,
		        e.data, e.metadata, e.recorded_at
		 FROM outbox o JOIN events e ON e.global_position = o.global_position
		 WHERE o.sent_at IS NULL ORDER BY o.id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read outbox: %w", err)
	}
	return scanOutbox(rows)
}

// SentOutbox implements eventstore.Store. The index on sent_at holds the
// id (the rowid) after it: the order asked for.
func (s *Store) SentOutbox(ctx context.Context, since time.Time, before *eventstore.OutboxEntry, limit int) ([]eventstore.OutboxEntry, error) {
	if limit <= 0 {
		limit = eventstore.DefaultReadAllLimit
	}
	at, id := int64(math.MaxInt64), int64(math.MaxInt64)
	if before != nil {
		at, id = micros(before.SentAt), before.ID
	}
	rows, err := s.readDB.QueryContext(ctx,
		`SELECT o.id, o.sent_at, e.global_position, e.event_id, e.stream_id, e.stream_version, e.type, e.schema_version,
		        e.data, e.metadata, e.recorded_at
		 FROM outbox o JOIN events e ON e.global_position = o.global_position
		 WHERE o.sent_at IS NOT NULL AND o.sent_at >= ? AND (o.sent_at, o.id) < (?, ?)
		 ORDER BY o.sent_at DESC, o.id DESC LIMIT ?`, micros(since), at, id, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read sent outbox: %w", err)
	}
	defer rows.Close()
	var out []eventstore.OutboxEntry
	for rows.Next() {
		var (
			o    eventstore.OutboxEntry
			sent int64
		)
		if err := scanEvent(rows, &o.Event, &o.ID, &sent); err != nil {
			return nil, err
		}
		o.SentAt = fromMicros(sent)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read sent outbox: %w", err)
	}
	return out, nil
}

func scanOutbox(rows *sql.Rows) ([]eventstore.OutboxEntry, error) {
	defer rows.Close()
	var out []eventstore.OutboxEntry
	for rows.Next() {
		var o eventstore.OutboxEntry
		if err := scanEvent(rows, &o.Event, &o.ID); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read outbox: %w", err)
	}
	return out, nil
}

// TraceSteps implements eventstore.Store.
func (s *Store) TraceSteps(ctx context.Context, traceID string) ([]eventstore.TraceStep, error) {
	rows, err := s.readDB.QueryContext(ctx,
		`SELECT step, status, detail, at FROM trace_steps WHERE trace_id = ? ORDER BY id`, traceID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read trace %s: %w", traceID, err)
	}
	defer rows.Close()
	var out []eventstore.TraceStep
	for rows.Next() {
		st := eventstore.TraceStep{TraceID: traceID}
		var at int64
		if err := rows.Scan(&st.Step, &st.Status, &st.Detail, &at); err != nil {
			return nil, fmt.Errorf("sqlite: scan trace step: %w", err)
		}
		st.At = fromMicros(at)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read trace %s: %w", traceID, err)
	}
	return out, nil
}

func scanEvents(rows *sql.Rows) ([]eventstore.Event, error) {
	defer rows.Close()
	var out []eventstore.Event
	for rows.Next() {
		var e eventstore.Event
		if err := scanEvent(rows, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read events: %w", err)
	}
	return out, nil
}

// scanEvent reads eventColumns, optionally preceded by extra columns.
func scanEvent(rows *sql.Rows, e *eventstore.Event, prefix ...any) error {
	var (
		id         string
		data, meta string
		recorded   int64
	)
	dest := append(prefix, &e.Position.Global, &id, &e.StreamID, &e.StreamVersion, &e.Type,
		&e.SchemaVersion, &data, &meta, &recorded)
	if err := rows.Scan(dest...); err != nil {
		return fmt.Errorf("sqlite: scan event: %w", err)
	}
	var err error
	if e.ID, err = uuid.Parse(id); err != nil {
		return fmt.Errorf("sqlite: event id %q: %w", id, err)
	}
	e.Data = json.RawMessage(data)
	if err := json.Unmarshal([]byte(meta), &e.Metadata); err != nil {
		return fmt.Errorf("sqlite: event %s metadata: %w", id, err)
	}
	e.RecordedAt = fromMicros(recorded)
	return nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context, categories []string) (uuid.UUID, bool, error) {
	q, args := `SELECT event_id FROM events`, []any{}
	if len(categories) > 0 {
		q += ` WHERE category IN (` + placeholders(len(categories)) + `)`
		for _, c := range categories {
			args = append(args, c)
		}
	}
	var id string
	err := s.readDB.QueryRowContext(ctx, q+` ORDER BY global_position DESC LIMIT 1`, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("sqlite: head: %w", err)
	}
	u, err := uuid.Parse(id)
	return u, err == nil, err
}
