package features_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/parquet-go/parquet-go"

	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/readmodel/features"
)

func exportCSV(t *testing.T, db *projection.DB) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := features.Export(ctxT(t), db, features.FormatCSV, &buf, nil); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// parseCSV reads an export back, column by column by header name.
func parseCSV(t *testing.T, text string) []features.Features {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("csv: %v", err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var out []features.Features
	for _, r := range recs[1:] {
		n := func(name string) int64 {
			v, err := strconv.ParseInt(r[col[name]], 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return v
		}
		tm := func(name string) time.Time {
			v, err := time.Parse(time.RFC3339Nano, r[col[name]])
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return v
		}
		out = append(out, features.Features{AccountID: r[col["account_id"]], Kind: r[col["kind"]], Status: r[col["status"]],
			Interactions: n("interactions"), OfficersMet: n("officers_met"), CiviliansMet: n("civilians_met"),
			PointsEarned: n("points_earned"), PointsDonated: n("points_donated"), PointsReceived: n("points_received"),
			PointsRedeemed: n("points_redeemed"), Redemptions: n("redemptions"), DaysActive: n("days_active"),
			FirstActivity: tm("first_activity"), LastActivity: tm("last_activity"), Rating: n("rating")})
	}
	return out
}

func sameRows(t *testing.T, what string, got, want []features.Features) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !same(got[i], want[i]) {
			t.Fatalf("%s row %d:\n got  %+v\n want %+v", what, i, got[i], want[i])
		}
	}
}

// Both formats read back to the rows Get returns, in account_id order.
func TestExportRoundTrip(t *testing.T) {
	forEachDB(t, func(t *testing.T, w *world) {
		m := newModel()
		story(t, w, m)
		w.rebuild(t)
		var want []features.Features
		for id := range m.f {
			f, err := features.Get(ctxT(t), w.db, id)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, f)
		}
		sortByID(want)
		text := exportCSV(t, w.db)
		if !strings.HasPrefix(text, strings.Join(features.Header, ",")+"\n") {
			t.Fatalf("no header row: %q", text[:min(len(text), 80)])
		}
		sameRows(t, "csv", parseCSV(t, text), want)

		var buf bytes.Buffer
		n, err := features.Export(ctxT(t), w.db, features.FormatParquet, &buf, nil)
		if err != nil || n != len(want) {
			t.Fatalf("parquet export: %d rows, %v", n, err)
		}
		rows, err := parquet.Read[features.Features](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		sameRows(t, "parquet", rows, want)
		if _, err := features.Export(ctxT(t), w.db, "xlsx", &buf, nil); err == nil {
			t.Fatal("an unknown format must fail")
		}
	})
}

// countingWriter records how many bytes reached it when each page was
// reported.
type countingWriter struct {
	bytes.Buffer
	atProgress []int
}

// An export of 10,000 accounts goes out page by page: progress is
// reported after every page of 1,000 rows and the bytes of each page have
// reached the writer by then, so the export holds one page (plus, for
// Parquet, the file's footer metadata) in memory, never the data set.
func TestExportStreamsPages(t *testing.T) {
	forEachDB(t, func(t *testing.T, w *world) {
		const accounts = 10_000
		insertAccounts(t, w.db, accounts)
		var csvRows []features.Features
		for _, format := range []string{features.FormatCSV, features.FormatParquet} {
			var out countingWriter
			var seen []int
			n, err := features.Export(ctxT(t), w.db, format, &out, func(rows int) {
				seen = append(seen, rows)
				out.atProgress = append(out.atProgress, out.Len())
			})
			if err != nil || n != accounts {
				t.Fatalf("%s: %d rows, %v", format, n, err)
			}
			if len(seen) != 10 || seen[0] != 1000 || seen[9] != n {
				t.Fatalf("%s: progress %v", format, seen)
			}
			for i := 1; i < len(out.atProgress); i++ {
				// CSV flushes every page; Parquet's writer hands bytes on in
				// buffer-sized chunks, so a page may wait for the next.
				if out.atProgress[i] < out.atProgress[i-1] || (format == features.FormatCSV && out.atProgress[i] == out.atProgress[i-1]) {
					t.Fatalf("%s: page %d wrote nothing before its progress report: %v", format, i, out.atProgress)
				}
			}
			if half := out.atProgress[4]; half < out.Len()*35/100 {
				t.Fatalf("%s: only %d of %d bytes written after half the rows: the export buffers", format, half, out.Len())
			}
			if format == features.FormatCSV {
				csvRows = parseCSV(t, out.String())
				continue
			}
			rows, err := parquet.Read[features.Features](bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil {
				t.Fatal(err)
			}
			sameRows(t, "parquet against csv", rows, csvRows)
			if !slices.IsSortedFunc(rows, func(a, b features.Features) int { return strings.Compare(a.AccountID, b.AccountID) }) {
				t.Fatal("rows are not in account_id order")
			}
		}
	})
}

// insertAccounts writes n generated rows straight into the table the
// projection's first generation keeps (named <projection>_<table>_g<n> by
// the runner): the export under test reads them like any other rows, and
// 10,000 applied events would make the race-enabled suite slow for
// nothing the story tests do not already cover.
func insertAccounts(t *testing.T, db *projection.DB, n int) {
	t.Helper()
	tx, err := db.Write.BeginTx(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // committed below
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for done := 0; done < n; {
		var q strings.Builder
		var args []any
		q.WriteString(`INSERT INTO features_account_features_g1 VALUES `)
		for i := 0; done < n && i < 500; i, done = i+1, done+1 {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			first, last := at.Add(time.Duration(done)*time.Minute), at.Add(time.Duration(done)*time.Hour)
			args = append(args, uuid.NewString(), "civilian", "active", int64(done%60), int64(done%7), int64(0),
				int64(done%500), int64(done%50), int64(0), int64(done%30), int64(done%3), int64(done%40),
				first.Format("2006-01-02T15:04:05.000000Z"), last.Format("2006-01-02T15:04:05.000000Z"), int64(done%101))
		}
		query := q.String()
		if db.Dialect == projection.Postgres {
			query = projection.Rebind(query)
		}
		if _, err := tx.ExecContext(ctxT(t), query, args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
