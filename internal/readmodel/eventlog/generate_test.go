package eventlog_test

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/readmodel/eventlog"
)

// generated prepares an empty event log on db and fills it with n rows.
func generated(t testing.TB, db *projection.DB, n int) {
	if _, err := projection.New(ctxT(t), projection.Config{DB: db, Projections: []projection.Projection{eventlog.New()}}); err != nil {
		t.Fatal(err)
	}
	var last int
	if err := eventlog.Generate(ctxT(t), db, n, 42, func(done int) { last = done }); err != nil {
		t.Fatal(err)
	}
	if last != n {
		t.Fatalf("progress ended at %d of %d", last, n)
	}
}

func TestGenerate(t *testing.T) {
	forEachDB(t, func(t *testing.T, _ eventstore.Store, db *projection.DB) {
		const n = 5003
		generated(t, db, n)
		top, err := eventlog.TopTypes(ctxT(t), db, time.Time{}, time.Time{}, eventlog.MaxLimit)
		total := 0
		for _, tc := range top {
			total += tc.Count
		}
		if err != nil || total != n {
			t.Fatalf("%d rows (%v), want %d", total, err, n)
		}
		lt, err := eventlog.AccountLifetime(ctxT(t), db)
		if err != nil || lt.Opened != (n+9)/10 || lt.Closed < lt.Opened/5 || lt.Closed > lt.Opened/2 || lt.Median <= 0 || lt.P90 < lt.Median {
			t.Fatalf("lifetime of generated accounts: %+v, %v", lt, err)
		}
		news, _, err := eventlog.List(ctxT(t), db, eventlog.Filter{Q: "festival", Types: []string{"Newsletter"}}, 5, "")
		if err != nil || len(news) != 5 {
			t.Fatalf("full text over generated rows: %d, %v", len(news), err)
		}
		one := news[0].CustomerID
		items, _, err := eventlog.List(ctxT(t), db, eventlog.Filter{CustomerID: one}, 50, "")
		if err != nil || len(items) != eventlog.EventsPerCustomer && len(items) != n%10 {
			t.Fatalf("one customer's rows: %d, %v", len(items), err)
		}
		if !slices.IsSortedFunc(items, func(a, b eventlog.Entry) int { return b.OccurredAt.Compare(a.OccurredAt) }) ||
			items[len(items)-1].Type != "AccountOpened" {
			t.Fatalf("a customer's log starts with the opening: %+v", items[len(items)-1])
		}
	})
}

// BenchmarkListCustomerTypeRange measures the first page of one customer's
// entries of two types over 30 days, on 100,000 generated rows (about 10,000
// customers), on SQLite and, when configured, Postgres. Set
// BLUEPOINT_BENCH_EVENTLOG_ROWS to measure another size, for example
// 10000000 for the 10-million-event target (loading takes minutes):
//
//	BLUEPOINT_BENCH_EVENTLOG_ROWS=10000000 go test -run '^$' \
//	    -bench ListCustomerTypeRange -benchtime 2000x -timeout 2h ./internal/readmodel/eventlog/
//
// It reports p50 and p99 latencies besides the mean.
func BenchmarkListCustomerTypeRange(b *testing.B) {
	rows := benchRows(b)
	b.Run("sqlite", func(b *testing.B) { benchList(b, openSQLiteRead(b), rows) })
	b.Run("postgres", func(b *testing.B) { benchList(b, openPostgresRead(b), rows) })
}

// benchRows is the size of the benchmarks' event log: 100,000 rows unless
// BLUEPOINT_BENCH_EVENTLOG_ROWS says otherwise.
func benchRows(b *testing.B) int {
	v := os.Getenv("BLUEPOINT_BENCH_EVENTLOG_ROWS")
	if v == "" {
		return 100_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1000 {
		b.Fatalf("BLUEPOINT_BENCH_EVENTLOG_ROWS=%q: want a number of rows, at least 1000", v)
	}
	return n
}

func benchList(b *testing.B, db *projection.DB, rows int) {
	began := time.Now()
	generated(b, db, rows)
	b.Logf("generated %d rows in %s", rows, time.Since(began).Round(time.Millisecond))
	listProbes(b, db)
}

// listProbes measures List on a generated log.
func listProbes(b *testing.B, db *projection.DB) {
	// Customers with an entry of the first type, and a 30-day range around
	// it, so that most pages hold something.
	type probe struct {
		customer string
		from     time.Time
	}
	var probes []probe
	r, err := db.Read.QueryContext(ctxT(b), `SELECT customer_id, occurred_at FROM event_log WHERE type = 'PointsCredited' LIMIT 1000`)
	if err != nil {
		b.Fatal(err)
	}
	for r.Next() {
		var p probe
		var at int64
		if err := r.Scan(&p.customer, &at); err != nil {
			b.Fatal(err)
		}
		p.from = time.UnixMicro(at).AddDate(0, 0, -15)
		probes = append(probes, p)
	}
	r.Close()
	types := []string{"PointsCredited", "DonationMade"}
	lat := make([]time.Duration, 0, b.N)
	found := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := probes[i%len(probes)]
		t0 := time.Now()
		items, _, err := eventlog.List(ctxT(b), db, eventlog.Filter{CustomerID: p.customer, Types: types,
			From: p.from, To: p.from.AddDate(0, 0, 30)}, 50, "")
		lat = append(lat, time.Since(t0))
		if err != nil || len(items) == 0 {
			b.Fatalf("%d items, %v", len(items), err)
		}
		found += len(items)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(found)/float64(len(lat)), "rows/op")
}

// BenchmarkAccountLifetime measures the account-lifetime analytics over the
// generated accounts (rows/10; BLUEPOINT_BENCH_EVENTLOG_ROWS=10000000 makes
// the 1-million-account target).
func BenchmarkAccountLifetime(b *testing.B) {
	rows := benchRows(b)
	run := func(b *testing.B, db *projection.DB) {
		generated(b, db, rows)
		lifetimes(b, db)
	}
	b.Run("sqlite", func(b *testing.B) { run(b, openSQLiteRead(b)) })
	b.Run("postgres", func(b *testing.B) { run(b, openPostgresRead(b)) })
}

// lifetimes measures AccountLifetime on a generated log, reporting the
// slowest call besides the mean.
func lifetimes(b *testing.B, db *projection.DB) {
	var worst time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if lt, err := eventlog.AccountLifetime(ctxT(b), db); err != nil || lt.Opened == 0 {
			b.Fatalf("%+v, %v", lt, err)
		}
		worst = max(worst, time.Since(t0))
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
}

// BenchmarkEventLogAtScale loads one log per engine and measures both
// event-log targets on it, so that the 10-million-row load is paid once:
//
//	BLUEPOINT_BENCH_EVENTLOG_ROWS=10000000 BLUEPOINT_TEST_POSTGRES=postgres://... go test -run '^$' \
//	    -bench 'EventLogAtScale/postgres' -benchtime 2000x -timeout 3h ./internal/readmodel/eventlog/
func BenchmarkEventLogAtScale(b *testing.B) {
	rows := benchRows(b)
	run := func(b *testing.B, db *projection.DB) {
		began := time.Now()
		generated(b, db, rows)
		b.Logf("generated %d rows in %s", rows, time.Since(began).Round(time.Millisecond))
		b.Run("list", func(b *testing.B) { listProbes(b, db) })
		b.Run("lifetime", func(b *testing.B) { lifetimes(b, db) })
	}
	b.Run("sqlite", func(b *testing.B) { run(b, openSQLiteRead(b)) })
	b.Run("postgres", func(b *testing.B) { run(b, openPostgresRead(b)) })
}

// A search walks the same entries whether its words are rare or common
// (SQLite plans the two differently): every page of it equals the entries
// of a walk of the whole log whose description holds the words outside
// its {account:<id>} references. "account" is a word of the openings and
// closings, and inside every reference of the other entries: only the
// former match.
func TestSearchAgreesWithAScan(t *testing.T) {
	refs := regexp.MustCompile(`\{account:[^{}\s]+\}`)
	forEachDB(t, func(t *testing.T, _ eventstore.Store, db *projection.DB) {
		generated(t, db, 20000)
		all := walk(t, db, eventlog.Filter{}, eventlog.MaxLimit)
		for _, q := range []string{"donation", "missing voucher", "festival", "account"} {
			words := strings.Fields(q)
			var want []string
			for _, e := range all {
				text := refs.ReplaceAllLiteralString(e.Description, " ")
				tokens := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
					return !unicode.IsLetter(r) && !unicode.IsDigit(r)
				})
				if !slices.ContainsFunc(words, func(w string) bool { return !slices.Contains(tokens, w) }) {
					want = append(want, e.ID)
				}
			}
			if len(want) == 0 {
				t.Fatalf("%q matches nothing: the test needs entries that match", q)
			}
			var got []string
			for _, e := range walk(t, db, eventlog.Filter{Q: q}, 70) {
				got = append(got, e.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%q: %d entries found, %d hold the words", q, len(got), len(want))
			}
		}
	})
}

// walk lists every entry of f, page by page.
func walk(t *testing.T, db *projection.DB, f eventlog.Filter, limit int) []eventlog.Entry {
	var out []eventlog.Entry
	for cursor := ""; ; {
		items, next, err := eventlog.List(ctxT(t), db, f, limit, cursor)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, items...)
		if next == "" {
			return out
		}
		cursor = next
	}
}
