package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// maxAnyRetries bounds how often an append retries when a stream it
// appends to with Any moved between reading its version and writing.
const maxAnyRetries = 20

// advisoryClass namespaces Bluepoint's per-stream advisory locks.
const advisoryClass = 0x42504e54

// errAnyRaced is internal: an Any stream moved; the append is retried.
var errAnyRaced = errors.New("stream appended with Any moved")

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, p *eventstore.AppendParams) (*eventstore.AppendResult, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := p.Validate(now); err != nil {
		return nil, err
	}
	var res *eventstore.AppendResult
	var err error
	if s.queue != nil {
		res, err = s.submit(ctx, p, now)
	} else {
		res, err = s.appendAlone(ctx, p, now)
	}
	if err != nil {
		return nil, err
	}
	s.committed()
	return res, nil
}

// appendAlone commits one append in a transaction of its own.
func (s *Store) appendAlone(ctx context.Context, p *eventstore.AppendParams, now time.Time) (*eventstore.AppendResult, error) {
	for attempt := 0; ; attempt++ {
		res, err := s.appendOnce(ctx, p, now)
		if errors.Is(err, errAnyRaced) && attempt < maxAnyRetries {
			// An exact-version append moved the stream; back off a little.
			select {
			case <-time.After(time.Duration(rand.IntN(1<<min(attempt, 6))+1) * time.Millisecond):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			continue
		}
		return res, err
	}
}

// streamPlan is one stream's part of an append with its expected version
// resolved to an exact one.
type streamPlan struct {
	eventstore.StreamAppend
	base  int64 // version before the append
	isAny bool
}

func (s *Store) appendOnce(ctx context.Context, p *eventstore.AppendParams, now time.Time) (*eventstore.AppendResult, error) {
	plans := newPlans(p.Streams)
	tx, err := s.resolve(ctx, plans)
	if err != nil {
		return nil, err
	}
	batch := &pgx.Batch{}
	began := tx == nil
	if began {
		// Nothing to read first: the transaction begins in the writes'
		// round trip rather than in one of its own.
		batch.BeginTx(pgx.TxOptions{})
	}
	order := lockOrder(plans)
	for _, i := range order {
		queueStreamCheck(batch, &plans[i])
	}
	ins := queueEvents(batch, plans, now)
	queueVault(batch, p, now)
	if r := p.Idempotency; r != nil {
		var response *string
		if r.Response != nil {
			v := string(r.Response)
			response = &v
		}
		batch.Queue(`INSERT INTO idempotency (key, fingerprint, status, response, created_at)
			VALUES ($1, $2, $3, $4::json, $5) ON CONFLICT (key) DO NOTHING`,
			r.Key, r.Fingerprint, r.Status, response, r.CreatedAt)
	}
	queueTraceSteps(batch, p.TraceSteps)

	var br pgx.BatchResults
	if began {
		br = s.pool.SendBatch(ctx, batch)
		tx = br.Tx()
	} else {
		br = tx.SendBatch(ctx, batch)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // a no-op after Commit
	result, failed, err := func() (*eventstore.AppendResult, *failure, error) {
		if began {
			if _, err := br.Exec(); err != nil {
				return nil, nil, fmt.Errorf("postgres: begin: %w", err)
			}
		}
		return readBatch(br, plans, order, ins, p, now)
	}()
	if cerr := br.Close(); err == nil && failed == nil && cerr != nil {
		err = cerr
	}
	if failed != nil || err != nil {
		tx.Rollback(context.Background()) //nolint:errcheck // reporting the first error
		return nil, s.explain(ctx, p, plans, failed, err)
	}
	if s.cfg.BeforeCommit != nil {
		s.cfg.BeforeCommit(ctx)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres: commit: %w", err)
	}
	return result, nil
}

// newPlans plans each stream of an append at its expected version (Any at
// 0, until resolved).
func newPlans(streams []eventstore.StreamAppend) []streamPlan {
	plans := make([]streamPlan, len(streams))
	for i, sa := range streams {
		plans[i] = streamPlan{StreamAppend: sa, base: max(int64(sa.Expected), 0), isAny: sa.Expected == eventstore.Any}
	}
	return plans
}

// lockOrder returns the indexes of plans in stream id order, byte by byte:
// the one order every append locks its streams in, so that two appends
// never wait on each other in a cycle.
func lockOrder(plans []streamPlan) []int {
	order := make([]int, len(plans))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(plans[a].StreamID, plans[b].StreamID) })
	return order
}

// resolve turns Any into the stream's current version. It begins the
// append's transaction to do so, and returns it; with no stream appended
// with Any it returns a nil transaction and reads nothing. It runs before
// the transaction's first write, so the transaction id (taken at the first
// write) is newer than every commit the append builds on: ordering the log
// by transaction id then keeps each stream's versions in order.
func (s *Store) resolve(ctx context.Context, plans []streamPlan) (pgx.Tx, error) {
	var anyIDs []string
	for _, sp := range plans {
		if sp.isAny {
			anyIDs = append(anyIDs, sp.StreamID)
		}
	}
	if len(anyIDs) == 0 {
		return nil, nil
	}
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	anyIDs = queueAnyLocks(b, anyIDs)
	br := s.pool.SendBatch(ctx, b)
	tx := br.Tx()
	versions := make(map[string]int64, len(anyIDs))
	err := func() error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("postgres: begin: %w", err)
		}
		return readAnyLocks(br, anyIDs, versions)
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		tx.Rollback(context.Background()) //nolint:errcheck // reporting the first error
		return nil, err
	}
	for i := range plans {
		if v, ok := versions[plans[i].StreamID]; ok && plans[i].isAny {
			plans[i].base = v
		}
	}
	return tx, nil
}

// queueAnyLocks queues, for the streams appended with Any, the advisory
// lock of each and then the read of their versions, and returns ids sorted.
// Appenders with Any queue on an advisory lock per stream before reading
// its version. Unlike a row lock, an advisory lock does not assign a
// transaction id, so waiting there keeps the ordering of the global log;
// and it keeps hot Any streams from failing over and over. Sorted: no
// deadlock.
func queueAnyLocks(b *pgx.Batch, ids []string) []string {
	slices.Sort(ids)
	for _, id := range ids {
		b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, advisoryClass, id)
	}
	b.Queue(`SELECT stream_id, version FROM streams WHERE stream_id = ANY($1)`, ids)
	return ids
}

// readAnyLocks reads what queueAnyLocks queued: the versions of the
// streams of ids that exist go into versions.
func readAnyLocks(br pgx.BatchResults, ids []string, versions map[string]int64) error {
	for _, id := range ids {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("postgres: lock stream %s: %w", id, err)
		}
	}
	return collectVersions(br, versions)
}

// queueStreamCheck queues the statement that moves (or, with no events,
// pins) a stream's version. Each returns one row when the stream was at the
// expected version and none otherwise.
func queueStreamCheck(b *pgx.Batch, sp *streamPlan) {
	next := sp.base + int64(len(sp.Events))
	switch {
	case len(sp.Events) == 0 && sp.base == 0:
		b.Queue(`SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM streams WHERE stream_id = $1)`, sp.StreamID)
	case len(sp.Events) == 0:
		// FOR SHARE keeps the stream from moving until this append commits.
		b.Queue(`SELECT 1 FROM streams WHERE stream_id = $1 AND version = $2 FOR SHARE`, sp.StreamID, sp.base)
	case sp.base == 0:
		b.Queue(`INSERT INTO streams (stream_id, category, version) VALUES ($1, $2, $3)
			ON CONFLICT (stream_id) DO NOTHING RETURNING 1`, sp.StreamID, eventstore.Category(sp.StreamID), next)
	default:
		b.Queue(`UPDATE streams SET version = $3 WHERE stream_id = $1 AND version = $2 RETURNING 1`,
			sp.StreamID, sp.base, next)
	}
}

// queueEvents queues one statement that inserts every event and its outbox
// row, in the order given. It reports whether anything was queued.
func queueEvents(b *pgx.Batch, plans []streamPlan, now time.Time) bool {
	var (
		ids, streams, categories, types, data, meta []string
		versions                                    []int64
		schemas                                     []int32
	)
	for _, sp := range plans {
		for j, e := range sp.Events {
			m, _ := json.Marshal(e.Metadata) // a struct of strings always marshals
			ids = append(ids, e.ID.String())
			streams = append(streams, sp.StreamID)
			versions = append(versions, sp.base+int64(j)+1)
			categories = append(categories, eventstore.Category(sp.StreamID))
			types = append(types, e.Type)
			schemas = append(schemas, int32(e.SchemaVersion))
			data = append(data, string(e.Data))
			meta = append(meta, string(m))
		}
	}
	if len(ids) == 0 {
		return false
	}
	// The arrays are read in the select list, not with unnest in FROM:
	// see projection/unnest.go for why.
	b.Queue(`WITH input AS (
			SELECT unnest($1::uuid[]) AS event_id, unnest($2::text[]) AS stream_id, unnest($3::bigint[]) AS stream_version,
				unnest($4::text[]) AS category, unnest($5::text[]) AS type, unnest($6::int[]) AS schema_version,
				unnest($7::text[]) AS data, unnest($8::text[]) AS metadata, generate_subscripts($1::uuid[], 1) AS ord
		), ins AS (
			INSERT INTO events (event_id, stream_id, stream_version, category, type, schema_version, data, metadata, recorded_at)
			SELECT event_id, stream_id, stream_version, category, type, schema_version, data::json, metadata::jsonb, $9
			FROM input ORDER BY ord
			RETURNING global_position, transaction_id
		), ob AS (
			INSERT INTO outbox (global_position) SELECT global_position FROM ins ORDER BY global_position
		)
		SELECT global_position, transaction_id::text FROM ins ORDER BY global_position`,
		ids, streams, versions, categories, types, schemas, data, meta, now)
	return true
}

func queueTraceSteps(b *pgx.Batch, steps []eventstore.TraceStep) {
	if len(steps) == 0 {
		return
	}
	var ids, names, statuses, details []string
	var at []time.Time
	for _, st := range steps {
		ids = append(ids, st.TraceID)
		names = append(names, st.Step)
		statuses = append(statuses, st.Status)
		details = append(details, st.Detail)
		at = append(at, st.At)
	}
	b.Queue(`INSERT INTO trace_steps (trace_id, step, status, detail, at)
		SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::timestamptz[])`,
		ids, names, statuses, details, at)
}

// failure says which part of an append was refused.
type failure struct {
	stream      *streamPlan         // version mismatch on this stream
	idempotency bool                // the key already exists
	claim       *eventstore.Claim   // the value is held by another owner
	dataKey     *eventstore.DataKey // the subject has a key or a tombstone
}

// readBatch reads the results in the order they were queued.
func readBatch(br pgx.BatchResults, plans []streamPlan, order []int, ins bool, p *eventstore.AppendParams, now time.Time) (*eventstore.AppendResult, *failure, error) {
	for _, i := range order {
		rows, err := br.Query()
		if err != nil {
			return nil, nil, fmt.Errorf("postgres: check version of %s: %w", plans[i].StreamID, err)
		}
		ok := rows.Next()
		rows.Close()
		if err := rows.Err(); err != nil {
			if isCode(err, "23505") {
				return nil, &failure{stream: &plans[i]}, nil
			}
			return nil, nil, fmt.Errorf("postgres: check version of %s: %w", plans[i].StreamID, err)
		}
		if !ok {
			return nil, &failure{stream: &plans[i]}, nil
		}
	}
	result := &eventstore.AppendResult{}
	if ins {
		rows, err := br.Query()
		if err != nil {
			return nil, nil, fmt.Errorf("postgres: insert events: %w", err)
		}
		var positions []eventstore.Position
		for rows.Next() {
			var pos eventstore.Position
			var tx string
			if err := rows.Scan(&pos.Global, &tx); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("postgres: insert events: %w", err)
			}
			if pos.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("postgres: transaction id %q: %w", tx, err)
			}
			positions = append(positions, pos)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("postgres: insert events: %w", err)
		}
		k := 0
		for _, sp := range plans {
			for j, e := range sp.Events {
				result.Events = append(result.Events, eventstore.Event{
					ID: e.ID, StreamID: sp.StreamID, StreamVersion: sp.base + int64(j) + 1, Position: positions[k],
					Type: e.Type, SchemaVersion: e.SchemaVersion, Data: e.Data, Metadata: e.Metadata, RecordedAt: now,
				})
				k++
			}
		}
	}
	if f, err := readVault(br, p); f != nil || err != nil {
		return nil, f, err
	}
	if p.Idempotency != nil {
		tag, err := br.Exec()
		if err != nil {
			return nil, nil, fmt.Errorf("postgres: insert idempotency record: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil, &failure{idempotency: true}, nil
		}
	}
	if len(p.TraceSteps) > 0 {
		if _, err := br.Exec(); err != nil {
			return nil, nil, fmt.Errorf("postgres: insert trace steps: %w", err)
		}
	}
	return result, nil, nil
}

// explain turns a refused append into the error the caller acts on.
func (s *Store) explain(ctx context.Context, p *eventstore.AppendParams, plans []streamPlan, f *failure, err error) error {
	switch {
	case err != nil:
		return err
	case f.idempotency:
		existing, err := s.Idempotency(ctx, p.Idempotency.Key)
		if err != nil {
			return fmt.Errorf("postgres: read the idempotency record that refused the append: %w", err)
		}
		return &eventstore.IdempotencyConflictError{Key: p.Idempotency.Key, Existing: existing}
	case f.claim != nil:
		owner, err := s.ClaimOwner(ctx, f.claim.Scope, f.claim.Value)
		if err != nil && !errors.Is(err, eventstore.ErrNotFound) {
			return err
		}
		return &eventstore.ClaimConflictError{Scope: f.claim.Scope, Value: f.claim.Value, Owner: owner}
	case f.dataKey != nil:
		return fmt.Errorf("data key of %s: %w", f.dataKey.Subject, eventstore.ErrDataKeyExists)
	case f.stream.isAny:
		return errAnyRaced
	default:
		actual, err := s.StreamVersion(ctx, f.stream.StreamID)
		if err != nil {
			return err
		}
		return &eventstore.ConcurrencyError{StreamID: f.stream.StreamID, Expected: f.stream.Expected, Actual: actual}
	}
}
