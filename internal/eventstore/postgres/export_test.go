package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Waiting reports how many appends wait for a committer.
func Waiting(s *Store) int64 { return s.waiting.Load() }

// Fallbacks reports how many groups failed before their commit and handed
// their appends back to be committed alone.
func Fallbacks(s *Store) int64 { return s.GroupStats().Fallbacks }

// GroupReads are the reads a group makes before it writes, with the number
// of text array parameters each takes.
var GroupReads = map[string]int{lockStreamsSQL: 1, knownKeysSQL: 1, knownSubjectsSQL: 1, lockClaimsSQL: 2}

// IsCommitUnknown reports whether err says that an append's commit was
// sent but its outcome never came back.
func IsCommitUnknown(err error) bool {
	var unknown *commitUnknownError
	return errors.As(err, &unknown)
}

// ReadAllQuery is ReadAll's statement for p, with its arguments.
func ReadAllQuery(p *eventstore.ReadAllParams) (string, []any) { return readAllQuery(p) }

// GenericPlan is the plan a prepared statement of sql comes to keep on one
// of s's connections: the one made for any parameters.
func GenericPlan(ctx context.Context, s *Store, sql string, args ...any) (string, error) {
	return plan(ctx, s, "force_generic_plan", sql, args...)
}

// CustomPlan is the plan one of s's connections makes for sql and these
// arguments, as it does for a prepared statement's first executions.
func CustomPlan(ctx context.Context, s *Store, sql string, args ...any) (string, error) {
	return plan(ctx, s, "force_custom_plan", sql, args...)
}

func plan(ctx context.Context, s *Store, mode, sql string, args ...any) (string, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = `+mode); err != nil {
		return "", err
	}
	rows, err := tx.Query(ctx, "EXPLAIN "+sql, args...)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return strings.Join(lines, "\n"), err
}

// RoundTrips counts the statements a store sends that wait for an answer:
// each Exec or Query (begin and commit among them) and each batch. It
// leaves out what does not belong to an append: a new connection's set-up,
// and the wake-ups sent to and heard from other processes.
type RoundTrips struct {
	mu      sync.Mutex
	sent    []string
	batched []Statement
}

// Statement is one statement of a batch, whole, with its arguments.
type Statement struct {
	SQL  string
	Args []any
}

// Batched returns the statements sent in batches, and starts again from
// nothing.
func (r *RoundTrips) Batched() []Statement { return drain(&r.mu, &r.batched) }

// CountRoundTrips makes the store opened with c count into r.
func CountRoundTrips(c *Config, r *RoundTrips) { c.tracer = r }

// Take returns what was sent, one entry per round trip (a batch as its
// statements joined by " + "), and starts again from nothing.
func (r *RoundTrips) Take() []string { return drain(&r.mu, &r.sent) }

// drain returns what *list holds, under mu, and empties it.
func drain[T any](mu *sync.Mutex, list *[]T) []T {
	mu.Lock()
	defer mu.Unlock()
	out := *list
	*list = nil
	return out
}

func (r *RoundTrips) add(what string) {
	r.mu.Lock()
	r.sent = append(r.sent, what)
	r.mu.Unlock()
}

func (r *RoundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if !strings.Contains(d.SQL, "pg_notify") && !strings.Contains(d.SQL, "current_user") && !strings.HasPrefix(d.SQL, "SET ROLE") &&
		!strings.Contains(d.SQL, "LISTEN ") {
		r.add(short(d.SQL))
	}
	return ctx
}

func (r *RoundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *RoundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	var parts []string
	r.mu.Lock()
	for _, q := range d.Batch.QueuedQueries {
		parts = append(parts, short(q.SQL))
		r.batched = append(r.batched, Statement{SQL: q.SQL, Args: q.Arguments})
	}
	r.sent = append(r.sent, strings.Join(parts, " + "))
	r.mu.Unlock()
	return ctx
}

func (r *RoundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (r *RoundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func short(sql string) string {
	sql = strings.Join(strings.Fields(sql), " ")
	if len(sql) > 40 {
		return sql[:40]
	}
	return sql
}
