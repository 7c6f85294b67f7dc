package eventlog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/projection"
)

// Bucketing: SQL counts entries per UTC day and type (integer division of
// the stored microseconds, the same on both dialects), and Go folds the days
// into weeks (starting Monday) or months. Days are few next to entries, so
// the fold costs little, and the calendar stays in one place.

const (
	microsPerDay = int64(24 * time.Hour / time.Microsecond)
	// epochShift moves times so that every day number is non-negative
	// (integer division truncates towards zero): it is the Unix time of
	// 0001-01-01 negated.
	epochShift = int64(62135596800) * int64(time.Second/time.Microsecond)
)

func checkInterval(interval string) error {
	if interval != Day && interval != Week && interval != Month {
		return domain.Invalid("interval", "must be %s, %s or %s", Day, Week, Month)
	}
	return nil
}

func rebind(db *projection.DB, q string) string {
	if db.Dialect == projection.Postgres {
		return projection.Rebind(q)
	}
	return q
}

// timeRange is the WHERE clause of [from, to), a zero bound being open.
func timeRange(from, to time.Time) (string, []any) {
	var conds []string
	var args []any
	if !from.IsZero() {
		conds, args = append(conds, "occurred_at >= ?"), append(args, from.UnixMicro())
	}
	if !to.IsZero() {
		conds, args = append(conds, "occurred_at < ?"), append(args, to.UnixMicro())
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// perDay counts the entries matching cond per UTC day and type.
func perDay(ctx context.Context, db *projection.DB, cond string, args []any) ([]Bucket, error) {
	q := fmt.Sprintf(`SELECT (occurred_at + %d) / %d AS day, type, COUNT(*) FROM event_log WHERE %s GROUP BY 1, 2`,
		epochShift, microsPerDay, cond)
	rows, err := db.Read.QueryContext(ctx, rebind(db, q), args...)
	if err != nil {
		return nil, fmt.Errorf("event log: count per day: %w", err)
	}
	defer rows.Close()
	var out []Bucket
	for rows.Next() {
		var day int64
		var b Bucket
		if err := rows.Scan(&day, &b.Type, &b.Count); err != nil {
			return nil, fmt.Errorf("event log: count per day: %w", err)
		}
		b.Start = time.UnixMicro(day*microsPerDay - epochShift).UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

// fold merges day counts into intervals, sorted by start then type.
func fold(days []Bucket, interval string) []Bucket {
	type key struct {
		start time.Time
		typ   string
	}
	sums := map[key]int{}
	for _, d := range days {
		sums[key{bucketStart(d.Start, interval), d.Type}] += d.Count
	}
	out := make([]Bucket, 0, len(sums))
	for k, n := range sums {
		out = append(out, Bucket{Start: k.start, Type: k.typ, Count: n})
	}
	slices.SortFunc(out, func(a, b Bucket) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.Type, b.Type)
	})
	return out
}

// bucketStart is the start of the interval holding t (UTC).
func bucketStart(t time.Time, interval string) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch interval {
	case Week:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}

func nextBucket(start time.Time, interval string) time.Time {
	switch interval {
	case Week:
		return start.AddDate(0, 0, 7)
	case Month:
		return start.AddDate(0, 1, 0)
	}
	return start.AddDate(0, 0, 1)
}
