package eventlog

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/projection"
)

// TypeCount is how many entries of one type there are.
type TypeCount struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
}

// Bucket is how many entries of one type fall in the interval that starts
// at Start (UTC).
type Bucket struct {
	Start time.Time `json:"start"`
	Type  string    `json:"type"`
	Count int       `json:"count"`
}

// Intervals of CustomerFrequency and TimeSeries. Weeks start on Monday,
// UTC (ISO 8601).
const (
	Day   = "day"
	Week  = "week"
	Month = "month"
)

// Lifetime summarizes how long accounts stay open: accounts opened, of
// which closed, the share still open, and the median and 90th percentile
// of the time from opening to closing of the closed ones.
type Lifetime struct {
	Opened         int           `json:"opened"`
	Closed         int           `json:"closed"`
	StillOpenShare float64       `json:"still_open_share"`
	Median         time.Duration `json:"median"`
	P90            time.Duration `json:"p90"`
}

// TopTypes returns the most common entry types in [from, to) (a zero bound
// is open), most common first, ties by type name.
func TopTypes(ctx context.Context, db *projection.DB, from, to time.Time, limit int) ([]TypeCount, error) {
	if limit < 1 || limit > MaxLimit {
		return nil, domain.Invalid("limit", "must be 1 to %d", MaxLimit)
	}
	where, args := timeRange(from, to)
	rows, err := db.Read.QueryContext(ctx, rebind(db, `SELECT type, COUNT(*) FROM event_log`+where+
		` GROUP BY type ORDER BY COUNT(*) DESC, type LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("event log: top types: %w", err)
	}
	defer rows.Close()
	var out []TypeCount
	for rows.Next() {
		var tc TypeCount
		if err := rows.Scan(&tc.Type, &tc.Count); err != nil {
			return nil, fmt.Errorf("event log: top types: %w", err)
		}
		out = append(out, tc)
	}
	return out, rows.Err()
}

// CustomerFrequency returns one customer's entries per interval and type,
// in time order, then type. Intervals without entries are left out.
func CustomerFrequency(ctx context.Context, db *projection.DB, customerID, interval string) ([]Bucket, error) {
	if err := checkInterval(interval); err != nil {
		return nil, err
	}
	days, err := perDay(ctx, db, `customer_id = ?`, []any{customerID})
	if err != nil {
		return nil, err
	}
	return fold(days, interval), nil
}

// TimeSeries returns the count of entries of eventType per interval in
// [from, to), every interval included (zero counts too), so that it can be
// drawn as it is. A zero bound defaults to the first or last entry of the
// type; at most 10,000 intervals.
func TimeSeries(ctx context.Context, db *projection.DB, eventType, interval string, from, to time.Time) ([]Bucket, error) {
	if err := checkInterval(interval); err != nil {
		return nil, err
	}
	where, args := timeRange(from, to)
	cond := "type = ?"
	if where != "" {
		cond += " AND " + where[len(" WHERE "):]
	}
	days, err := perDay(ctx, db, cond, append([]any{eventType}, args...))
	if err != nil {
		return nil, err
	}
	counts := fold(days, interval)
	if len(counts) == 0 && (from.IsZero() || to.IsZero()) {
		return nil, nil
	}
	first, last := from, to.Add(-time.Microsecond)
	if from.IsZero() {
		first = counts[0].Start
	}
	if to.IsZero() {
		last = counts[len(counts)-1].Start
	}
	var out []Bucket
	for b, i := bucketStart(first, interval), 0; !b.After(last); b = nextBucket(b, interval) {
		if len(out) == 10000 {
			return nil, domain.Invalid("interval", "the range holds more than 10000 intervals; narrow it or use a longer interval")
		}
		n := 0
		if i < len(counts) && counts[i].Start.Equal(b) {
			n, i = counts[i].Count, i+1
		}
		out = append(out, Bucket{Start: b, Type: eventType, Count: n})
	}
	return out, nil
}

// AccountLifetime summarizes the accounts' openings and closings (the
// AccountOpened and AccountClosed events of account streams; external
// events of the same type names do not count). Percentiles are exact, by
// linear interpolation between the closest ranks of the sorted durations
// (the median of an even count is the mean of the middle two).
//
// It reads the one-row-per-account lifetime table, not the log: the counts
// come from one aggregate, and each percentile from the two durations at
// its rank, which the index on the duration finds without sorting or
// fetching the others.
func AccountLifetime(ctx context.Context, db *projection.DB) (Lifetime, error) {
	var lt Lifetime
	err := db.Read.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(lifetime) FROM account_lifetimes`).Scan(&lt.Opened, &lt.Closed)
	if err != nil {
		return Lifetime{}, fmt.Errorf("event log: account lifetime: %w", err)
	}
	if lt.Opened > 0 {
		lt.StillOpenShare = float64(lt.Opened-lt.Closed) / float64(lt.Opened)
	}
	for _, x := range []struct {
		p   float64
		dst *time.Duration
	}{{0.5, &lt.Median}, {0.9, &lt.P90}} {
		if *x.dst, err = lifetimeAt(ctx, db, lt.Closed, x.p); err != nil {
			return Lifetime{}, err
		}
	}
	return lt, nil
}

// lifetimeAt is the p-th percentile of the n closed accounts' lifetimes.
func lifetimeAt(ctx context.Context, db *projection.DB, n int, p float64) (time.Duration, error) {
	if n == 0 {
		return 0, nil
	}
	lo := int(math.Floor(p * float64(n-1)))
	rows, err := db.Read.QueryContext(ctx, rebind(db, `SELECT lifetime FROM account_lifetimes WHERE lifetime IS NOT NULL
		ORDER BY lifetime LIMIT 2 OFFSET ?`), lo)
	if err != nil {
		return 0, fmt.Errorf("event log: account lifetime: %w", err)
	}
	defer rows.Close()
	var ds []int64
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return 0, fmt.Errorf("event log: account lifetime: %w", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("event log: account lifetime: %w", err)
	}
	if len(ds) == 0 {
		return 0, fmt.Errorf("event log: account lifetime: no lifetime at rank %d of %d", lo, n)
	}
	// ds holds the ranks lo and lo+1 (only lo at the top): the fraction
	// past lo is the same position within ds.
	return percentile(ds, p*float64(n-1)-float64(lo)), nil
}

// percentile of sorted microsecond durations.
func percentile(sorted []int64, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	h := p * float64(len(sorted)-1)
	lo := int(math.Floor(h))
	v := float64(sorted[lo])
	if lo+1 < len(sorted) {
		v += (h - float64(lo)) * float64(sorted[lo+1]-sorted[lo])
	}
	return time.Duration(math.Round(v)) * time.Microsecond
}
