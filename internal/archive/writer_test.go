package archive

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

var keyPattern = regexp.MustCompile(`^stream=[a-z]+/date=\d{4}-\d{2}-\d{2}/\d{20}-\d{20}-[0-9a-f]{8}\.(ndjson\.gz|parquet)$`)

func TestBatchByCount(t *testing.T) {
	for _, format := range []string{FormatNDJSON, FormatParquet} {
		t.Run(format, func(t *testing.T) {
			b, dir := fileBucket(t)
			w := &Writer{Bucket: b, Format: format, MaxEvents: 3, StreamOf: byCategory}
			ctx := context.Background()
			var written []ObjectInfo
			for i := int64(1); i <= 7; i++ {
				infos, err := w.Add(ctx, event("account-a", i, day))
				if err != nil {
					t.Fatal(err)
				}
				if i%3 == 0 && len(infos) != 1 || i%3 != 0 && len(infos) != 0 {
					t.Fatalf("after event %d: %d objects written", i, len(infos))
				}
				written = append(written, infos...)
			}
			rest, err := w.Flush(ctx)
			if err != nil || len(rest) != 1 || len(rest[0].IDs) != 1 {
				t.Fatalf("flush: %v %+v", err, rest)
			}
			written = append(written, rest...)
			want := []string{"00000000000000000001-00000000000000000003", "00000000000000000004-00000000000000000006", "00000000000000000007-00000000000000000007"}
			for i, info := range written {
				if !keyPattern.MatchString(info.Key) || !strings.Contains(info.Key, "stream=users/date=2026-11-03/"+want[i]) {
					t.Errorf("object %d key %s", i, info.Key)
				}
				events, err := Read(ctx, b, info.Key)
				if err != nil {
					t.Fatal(err)
				}
				if len(events) != len(info.IDs) || events[0].ID != info.IDs[0] || events[0].Position != info.First {
					t.Errorf("object %s holds %d events, reported %d", info.Key, len(events), len(info.IDs))
				}
			}
			if again, err := w.Flush(ctx); err != nil || len(again) != 0 {
				t.Fatalf("second flush wrote %d objects (%v)", len(again), err)
			}
			noAttrs(t, dir)
		})
	}
}

func TestBatchByBytes(t *testing.T) {
	b, _ := fileBucket(t)
	w := &Writer{Bucket: b, MaxBytes: 10 << 10}
	ctx := context.Background()
	big := `{"s":"` + strings.Repeat("x", 3<<10) + `"}`
	var objects [][]ObjectInfo
	for i := int64(1); i <= 8; i++ {
		e := event("account-a", i, day)
		e.Data = []byte(big)
		infos, err := w.Add(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) > 0 {
			objects = append(objects, infos)
		}
	}
	// About 3.2 KiB per line: the fourth event reaches 10 KiB.
	if len(objects) != 2 || len(objects[0][0].IDs) != 4 || len(objects[1][0].IDs) != 4 {
		t.Fatalf("objects: %+v", objects)
	}
}

func TestBatchByAge(t *testing.T) {
	b, _ := fileBucket(t)
	clock := &fakeClock{now: day}
	w := &Writer{Bucket: b, MaxAge: time.Minute, Now: clock.Now}
	ctx := context.Background()
	if _, err := w.Add(ctx, event("account-a", 1, day)); err != nil {
		t.Fatal(err)
	}
	clock.now = day.Add(30 * time.Second)
	if _, err := w.Add(ctx, event("product-p", 2, day)); err != nil {
		t.Fatal(err)
	}
	if infos, err := w.FlushDue(ctx); err != nil || len(infos) != 0 {
		t.Fatalf("nothing is due after 30s: %v %+v", err, infos)
	}
	clock.now = day.Add(time.Minute)
	infos, err := w.FlushDue(ctx)
	if err != nil || len(infos) != 1 || infos[0].Stream != "account" {
		t.Fatalf("after 1m only the account batch is due: %v %+v", err, infos)
	}
	clock.now = day.Add(90 * time.Second)
	infos, err = w.FlushDue(ctx)
	if err != nil || len(infos) != 1 || infos[0].Stream != "product" {
		t.Fatalf("after 1m30s the product batch is due: %v %+v", err, infos)
	}
}

func TestPartitionByStreamAndDate(t *testing.T) {
	b, dir := fileBucket(t)
	w := &Writer{Bucket: b, StreamOf: byCategory}
	ctx := context.Background()
	midnight := time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)
	berlin := time.FixedZone("CET", 3600)
	events := []eventstore.Event{
		event("account-a", 1, midnight.Add(-time.Nanosecond)),
		event("product-p", 2, midnight.Add(-time.Second)),
		event("account-a", 3, midnight),
		event("rule-r", 4, midnight.Add(time.Second)),
		// 00:30 in Berlin is still the 3rd in UTC.
		event("account-b", 5, midnight.Add(-30*time.Minute).In(berlin)),
	}
	for _, e := range events {
		if infos, err := w.Add(ctx, e); err != nil || len(infos) != 0 {
			t.Fatalf("add: %v %+v", err, infos)
		}
	}
	if _, err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string][]int64{}
	for key, evs := range readKeys(t, b, "") {
		part := key[:strings.LastIndexByte(key, '/')]
		for _, e := range evs {
			got[part] = append(got[part], e.Position.Global)
		}
	}
	want := map[string][]int64{
		"stream=users/date=2026-11-03":   {1, 5},
		"stream=users/date=2026-11-04":   {3},
		"stream=catalog/date=2026-11-03": {2},
		"stream=catalog/date=2026-11-04": {4},
	}
	if len(got) != len(want) {
		t.Fatalf("partitions %v, want %v", got, want)
	}
	for part, globals := range want {
		if len(got[part]) != len(globals) || got[part][0] != globals[0] || got[part][len(globals)-1] != globals[len(globals)-1] {
			t.Errorf("%s holds %v, want %v", part, got[part], globals)
		}
	}
	if keys, _ := List(ctx, b, "stream=catalog/"); len(keys) != 2 {
		t.Errorf("listing one stream: %v", keys)
	}
	noAttrs(t, dir)
}

func TestAddRejects(t *testing.T) {
	b, _ := fileBucket(t)
	ctx := context.Background()
	for name, w := range map[string]*Writer{
		"no bucket":    {},
		"bad format":   {Bucket: b, Format: "csv"},
		"stream slash": {Bucket: b, StreamOf: func(eventstore.Event) string { return "a/b" }},
		"empty stream": {Bucket: b, StreamOf: func(eventstore.Event) string { return "" }},
	} {
		if _, err := w.Add(ctx, event("account-a", 1, day)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	e := event("account-a", 1, day)
	e.RecordedAt = time.Time{}
	if _, err := (&Writer{Bucket: b}).Add(ctx, e); err == nil {
		t.Error("event without a recorded time: no error")
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	t.Chdir(t.TempDir())
	b, err := Open(ctx, "file://./rel/archive")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	w := &Writer{Bucket: b}
	if _, err := w.Add(ctx, event("account-a", 1, day)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("rel", "archive", "stream=account", "date=2026-11-03")); err != nil {
		t.Fatalf("relative directory: %v", err)
	}
	for _, bad := range []string{"archive", "gs://bucket", "file://", "file:///tmp/x?metadata=skip"} {
		if b, err := Open(ctx, bad); err == nil {
			b.Close()
			t.Errorf("Open(%q): no error", bad)
		}
	}
	// Opening an S3 bucket only builds a client; nothing is sent.
	s3, err := Open(ctx, "s3://bucket?region=us-east-1&endpoint=http://127.0.0.1:1&use_path_style=true&disable_https=true")
	if err != nil {
		t.Fatalf("s3: %v", err)
	}
	s3.Close()
}
