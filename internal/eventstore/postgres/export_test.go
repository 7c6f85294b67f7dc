package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Waiting reports how many appends wait for a committer.
func Waiting(s *Store) int64 { return s.waiting.Load() }

// Fallbacks reports how many groups failed before their commit and handed
// their appends back to be committed alone.
func Fallbacks(s *Store) int64 { return s.fallbacks.Load() }

// GroupReads are the reads a group makes before it writes, with the number
// of text array parameters each takes.
var GroupReads = map[string]int{lockStreamsSQL: 1, knownKeysSQL: 1, knownSubjectsSQL: 1, lockClaimsSQL: 2}

// GenericPlan is the plan a prepared statement of sql comes to keep on one
// of s's connections: the one made for any parameters.
func GenericPlan(ctx context.Context, s *Store, sql string, args ...any) (string, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
		return "", err
	}
	rows, err := tx.Query(ctx, "EXPLAIN "+sql, args...)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return strings.Join(lines, "\n"), err
}
