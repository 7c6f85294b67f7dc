package eventlog_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/readmodel/eventlog"
)

// monday finds the Monday on or before t's day by walking back, rather
// than by the arithmetic the package uses.
func monday(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, -1)
	}
	return d
}

func startOf(t time.Time, interval string) time.Time {
	switch interval {
	case eventlog.Week:
		return monday(t)
	case eventlog.Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// count groups rows by interval start and type, as buckets sorted like the
// package's.
func count(rows []row, interval string) []eventlog.Bucket {
	type key struct {
		at  time.Time
		typ string
	}
	n := map[key]int{}
	for _, r := range rows {
		n[key{startOf(r.at, interval), r.typ}]++
	}
	var out []eventlog.Bucket
	for _, k := range slices.SortedFunc(maps.Keys(n), func(a, b key) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.typ, b.typ)
	}) {
		out = append(out, eventlog.Bucket{Start: k.at, Type: k.typ, Count: n[k]})
	}
	return out
}

func sameBuckets(a, b []eventlog.Bucket) bool {
	return slices.EqualFunc(a, b, func(x, y eventlog.Bucket) bool {
		return x.Start.Equal(y.Start) && x.Type == y.Type && x.Count == y.Count
	})
}

func TestAnalytics(t *testing.T) {
	forEachEnv(t, start, func(t *testing.T, e *env) {
		s := play(t, e)
		e.rebuild(t)
		want := expected(t, e.store)

		// Most common types, over everything and over the first week.
		from, to := start, start.AddDate(0, 0, 7)
		for _, r := range [][2]time.Time{{}, {from, to}} {
			n := map[string]int{}
			for _, row := range want {
				if (r[0].IsZero() || !row.at.Before(r[0])) && (r[1].IsZero() || row.at.Before(r[1])) {
					n[row.typ]++
				}
			}
			var wantTop []eventlog.TypeCount
			for typ, c := range n {
				wantTop = append(wantTop, eventlog.TypeCount{Type: typ, Count: c})
			}
			slices.SortFunc(wantTop, func(a, b eventlog.TypeCount) int {
				if a.Count != b.Count {
					return b.Count - a.Count
				}
				return strings.Compare(a.Type, b.Type)
			})
			got, err := eventlog.TopTypes(ctxT(t), e.db, r[0], r[1], 5)
			if err != nil || !slices.Equal(got, wantTop[:5]) {
				t.Errorf("top types in %v: got %v, %v; want %v", r, got, err, wantTop[:5])
			}
		}
		if top, _ := eventlog.TopTypes(ctxT(t), e.db, time.Time{}, time.Time{}, 1); len(top) != 1 || top[0].Type != "PointsCredited" {
			t.Errorf("the most common type: %v", top)
		}

		// One customer's frequency.
		mine := where(want, func(r row) bool { return r.customer == s.civ.ID })
		for _, interval := range []string{eventlog.Day, eventlog.Week, eventlog.Month} {
			got, err := eventlog.CustomerFrequency(ctxT(t), e.db, s.civ.ID, interval)
			if err != nil || !sameBuckets(got, count(mine, interval)) {
				t.Errorf("%s frequency:\n got %v, %v\nwant %v", interval, got, err, count(mine, interval))
			}
		}
		weeks, _ := eventlog.CustomerFrequency(ctxT(t), e.db, s.civ.ID, eventlog.Week)
		if len(weeks) == 0 || !weeks[0].Start.Equal(time.Date(2025, 1, 20, 0, 0, 0, 0, time.UTC)) || weeks[0].Type != "SupportCall" {
			t.Errorf("the first week: %v", weeks)
		}
		if _, err := eventlog.CustomerFrequency(ctxT(t), e.db, s.civ.ID, "fortnight"); err == nil {
			t.Error("an unknown interval must be refused")
		}

		// Time series, zero days included.
		tsFrom, tsTo := time.Date(2025, 1, 27, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 4, 0, 0, 0, 0, time.UTC)
		credits := count(where(want, func(r row) bool {
			return r.typ == "PointsCredited" && !r.at.Before(tsFrom) && r.at.Before(tsTo)
		}), eventlog.Day)
		var wantSeries []eventlog.Bucket
		for d := tsFrom; d.Before(tsTo); d = d.AddDate(0, 0, 1) {
			b := eventlog.Bucket{Start: d, Type: "PointsCredited"}
			for _, c := range credits {
				if c.Start.Equal(d) {
					b.Count = c.Count
				}
			}
			wantSeries = append(wantSeries, b)
		}
		series, err := eventlog.TimeSeries(ctxT(t), e.db, "PointsCredited", eventlog.Day, tsFrom, tsTo)
		if err != nil || !sameBuckets(series, wantSeries) || len(series) != 8 || series[2].Count != 0 {
			t.Errorf("time series:\n got %v, %v\nwant %v", series, err, wantSeries)
		}
		monthly, err := eventlog.TimeSeries(ctxT(t), e.db, "Complaint", eventlog.Month, time.Time{}, time.Time{})
		if err != nil || len(monthly) != 1 || monthly[0].Count != 1 || monthly[0].Start.Month() != time.March {
			t.Errorf("monthly complaints: %v, %v", monthly, err)
		}

		// Account lifetime: the five closed after known times; the others
		// (staff, civilian, officer, charity, merchant) still open.
		lt, err := eventlog.AccountLifetime(ctxT(t), e.db)
		if err != nil {
			t.Fatal(err)
		}
		opened := len(where(want, func(r row) bool { return r.typ == "AccountOpened" }))
		wantLT := eventlog.Lifetime{Opened: opened, Closed: len(s.lifetimes),
			StillOpenShare: float64(opened-len(s.lifetimes)) / float64(opened),
			Median:         5 * time.Hour,                                   // 1h 2h [5h] 24h 72h
			P90:            24*time.Hour + 6*(72*time.Hour-24*time.Hour)/10} // rank 3.6
		if lt != wantLT || opened != 10 {
			t.Errorf("lifetime %+v, want %+v", lt, wantLT)
		}
	})
}
