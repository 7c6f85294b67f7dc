package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

const eventColumns = `e.global_position, e.transaction_id::text, e.event_id, e.stream_id, e.stream_version, e.type,
	e.schema_version, e.data::text, e.metadata::text, e.recorded_at`

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, p *eventstore.ReadStreamParams) ([]eventstore.Event, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	limit := any(nil) // NULL: no limit
	if p.Limit > 0 {
		limit = p.Limit
	}
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM events e
		WHERE e.stream_id = $1 AND e.stream_version >= $2 ORDER BY e.stream_version LIMIT $3`,
		p.StreamID, p.FromVersion, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read stream %s: %w", p.StreamID, err)
	}
	return collectEvents(rows)
}

// StreamVersion implements eventstore.Store.
func (s *Store) StreamVersion(ctx context.Context, streamID string) (int64, error) {
	if err := eventstore.ValidateStreamID(streamID); err != nil {
		return 0, err
	}
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT COALESCE((SELECT version FROM streams WHERE stream_id = $1), 0)`, streamID).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("postgres: version of %s: %w", streamID, err)
	}
	return v, nil
}

// ReadAll implements eventstore.Store. It reads in (transaction, position)
// order and only events of transactions older than the oldest one still
// running: every such transaction has ended, so nothing can appear later
// before the last event returned.
func (s *Store) ReadAll(ctx context.Context, p *eventstore.ReadAllParams) ([]eventstore.Event, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	sql, args := readAllQuery(p)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read all: %w", err)
	}
	return collectEvents(rows)
}

// readAllQuery is ReadAll's statement. A single category is compared with
// =, not = ANY: only then does the planner see that the category's index
// already holds its events in the log's order, and walk it for the first
// rows after the position. Through = ANY it gathers and sorts every later
// event of the category on each read, which makes a rebuild quadratic.
func readAllQuery(p *eventstore.ReadAllParams) (string, []any) {
	where := []string{
		`(e.transaction_id, e.global_position) > ($1::text::xid8, $2)`,
		`e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())`,
	}
	args := []any{strconv.FormatUint(p.After.TxID, 10), p.After.Global, p.Limit}
	switch len(p.Categories) {
	case 0:
	case 1:
		args = append(args, p.Categories[0])
		where = append(where, fmt.Sprintf("e.category = $%d", len(args)))
	default:
		args = append(args, p.Categories)
		where = append(where, fmt.Sprintf("e.category = ANY($%d)", len(args)))
	}
	if len(p.Types) > 0 {
		args = append(args, p.Types)
		where = append(where, fmt.Sprintf("e.type = ANY($%d)", len(args)))
	}
	return `SELECT ` + eventColumns + ` FROM events e WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY e.transaction_id, e.global_position LIMIT $3`, args
}

// Idempotency implements eventstore.Store.
func (s *Store) Idempotency(ctx context.Context, key string) (*eventstore.IdempotencyRecord, error) {
	r := eventstore.IdempotencyRecord{Key: key}
	var response *string
	err := s.pool.QueryRow(ctx,
		`SELECT fingerprint, status, response::text, created_at FROM idempotency WHERE key = $1`, key).
		Scan(&r.Fingerprint, &r.Status, &response, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("idempotency key %q: %w", key, eventstore.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read idempotency record: %w", err)
	}
	if response != nil {
		r.Response = json.RawMessage(*response)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return &r, nil
}

// PendingOutbox implements eventstore.Store.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]eventstore.OutboxEntry, error) {
	if limit <= 0 {
		limit = eventstore.DefaultReadAllLimit
	}
	rows, err := s.pool.Query(ctx, pendingOutboxSQL, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read outbox: %w", err)
	}
	return collectOutbox(rows)
}

const pendingOutboxSQL = `SELECT o.id, ` + eventColumns + `
	FROM outbox o JOIN events e ON e.global_position = o.global_position
	WHERE o.sent_at IS NULL ORDER BY o.id LIMIT $1`

// MarkSentThenPending implements eventstore.Store: one batch, whose
// statements run in one implicit transaction, so the read sees the mark.
func (s *Store) MarkSentThenPending(ctx context.Context, ids []int64, limit int) ([]eventstore.OutboxEntry, error) {
	if limit <= 0 {
		limit = eventstore.DefaultReadAllLimit
	}
	b := &pgx.Batch{}
	if len(ids) > 0 {
		queueAsyncCommit(b)
		b.Queue(markSentSQL, ids)
	}
	b.Queue(pendingOutboxSQL, limit)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	if len(ids) > 0 {
		for range 2 {
			if _, err := br.Exec(); err != nil {
				return nil, fmt.Errorf("postgres: mark %d outbox rows sent: %w", len(ids), err)
			}
		}
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("postgres: read outbox: %w", err)
	}
	out, err := collectOutbox(rows)
	if err != nil {
		return nil, err
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("postgres: read outbox: %w", err)
	}
	return out, nil
}

// SentOutbox implements eventstore.Store.
func (s *Store) SentOutbox(ctx context.Context, since time.Time, before *eventstore.OutboxEntry, limit int) ([]eventstore.OutboxEntry, error) {
	if limit <= 0 {
		limit = eventstore.DefaultReadAllLimit
	}
	cond, args := ``, []any{since, limit}
	if before != nil {
		cond, args = ` AND (o.sent_at, o.id) < ($3, $4)`, append(args, before.SentAt, before.ID)
	}
	rows, err := s.pool.Query(ctx, `SELECT o.id, o.sent_at, `+eventColumns+`
		FROM outbox o JOIN events e ON e.global_position = o.global_position
		WHERE o.sent_at IS NOT NULL AND o.sent_at >= $1`+cond+`
		ORDER BY o.sent_at DESC, o.id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read sent outbox: %w", err)
	}
	defer rows.Close()
	var out []eventstore.OutboxEntry
	for rows.Next() {
		var o eventstore.OutboxEntry
		if err := scanEvent(rows, &o.Event, &o.ID, &o.SentAt); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read sent outbox: %w", err)
	}
	return out, nil
}

func collectOutbox(rows pgx.Rows) ([]eventstore.OutboxEntry, error) {
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
		return nil, fmt.Errorf("postgres: read outbox: %w", err)
	}
	return out, nil
}

// MarkSent implements eventstore.Store.
func (s *Store) MarkSent(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	queueAsyncCommit(b)
	b.Queue(markSentSQL, ids)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: mark %d outbox rows sent: %w", len(ids), err)
	}
	return nil
}

const markSentSQL = `UPDATE outbox SET sent_at = now() WHERE id = ANY($1) AND sent_at IS NULL`

// queueAsyncCommit lets the batch's implicit transaction commit without
// waiting for its WAL to reach disk. Only for writes whose loss in a
// database crash costs nothing but work done again or a diagnostic: a
// "sent" mark lost means a duplicate publish, which the streams drop, and
// trace steps are diagnostics. Each of them otherwise waited for a flush of
// its own, competing with the appends that must.
func queueAsyncCommit(b *pgx.Batch) {
	b.Queue(`SELECT set_config('synchronous_commit', 'off', true)`)
}

// PruneOutbox implements eventstore.Store.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune outbox: %w", err)
	}
	return tag.RowsAffected(), nil
}

// TraceSteps implements eventstore.Store.
func (s *Store) TraceSteps(ctx context.Context, traceID string) ([]eventstore.TraceStep, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT step, status, detail, at FROM trace_steps WHERE trace_id = $1 ORDER BY id`, traceID)
	if err != nil {
		return nil, fmt.Errorf("postgres: read trace %s: %w", traceID, err)
	}
	steps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (eventstore.TraceStep, error) {
		st := eventstore.TraceStep{TraceID: traceID}
		err := r.Scan(&st.Step, &st.Status, &st.Detail, &st.At)
		st.At = st.At.UTC()
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read trace %s: %w", traceID, err)
	}
	return steps, nil
}

// PruneTraceSteps implements eventstore.Store.
func (s *Store) PruneTraceSteps(ctx context.Context, before time.Time, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, pruneTraceStepsSQL, before, limit)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune trace steps: %w", err)
	}
	return tag.RowsAffected(), nil
}

// pruneTraceStepsSQL deletes the oldest steps up to the first young one,
// both found along the primary key from its low end.
const pruneTraceStepsSQL = `DELETE FROM trace_steps WHERE id IN (
	SELECT id FROM trace_steps
	WHERE id < (SELECT coalesce(min(id), 9223372036854775807) FROM trace_steps WHERE at >= $1)
	ORDER BY id LIMIT $2)`

// RecordTraceSteps implements eventstore.Store.
func (s *Store) RecordTraceSteps(ctx context.Context, steps []eventstore.TraceStep) error {
	if err := eventstore.ValidateTraceSteps(steps, time.Now().UTC()); err != nil {
		return err
	}
	if len(steps) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	queueAsyncCommit(b)
	queueTraceSteps(b, steps)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: record trace steps: %w", err)
	}
	return nil
}

func collectEvents(rows pgx.Rows) ([]eventstore.Event, error) {
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
		return nil, fmt.Errorf("postgres: read events: %w", err)
	}
	return out, nil
}

// scanEvent reads eventColumns, optionally preceded by extra columns.
func scanEvent(rows pgx.Rows, e *eventstore.Event, prefix ...any) error {
	var (
		tx, data, meta string
		id             uuid.UUID
	)
	dest := append(prefix, &e.Position.Global, &tx, &id, &e.StreamID, &e.StreamVersion, &e.Type,
		&e.SchemaVersion, &data, &meta, &e.RecordedAt)
	if err := rows.Scan(dest...); err != nil {
		return fmt.Errorf("postgres: scan event: %w", err)
	}
	var err error
	if e.Position.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
		return fmt.Errorf("postgres: transaction id %q: %w", tx, err)
	}
	e.ID = id
	e.Data = json.RawMessage(data)
	if err := json.Unmarshal([]byte(meta), &e.Metadata); err != nil {
		return fmt.Errorf("postgres: event %s metadata: %w", id, err)
	}
	e.RecordedAt = e.RecordedAt.UTC()
	return nil
}

// Head implements eventstore.Store. It reads the newest visible row, not
// the log below the oldest running transaction: it says what a reader must
// eventually reach.
func (s *Store) Head(ctx context.Context, categories []string) (uuid.UUID, bool, error) {
	q, args := `SELECT event_id FROM events`, []any{}
	if len(categories) > 0 {
		q += ` WHERE category = ANY($1)`
		args = append(args, categories)
	}
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, q+` ORDER BY global_position DESC LIMIT 1`, args...).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("postgres: head: %w", err)
	}
	return id, true, nil
}
