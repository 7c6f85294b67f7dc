package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// richEvents exercise every field: unicode everywhere, HTML characters that
// a JSON encoder likes to escape, a 100 KiB payload, a Postgres transaction
// id, nanoseconds and a non-UTC zone.
func richEvents() []eventstore.Event {
	at := time.Date(2026, 11, 3, 23, 59, 59, 123456789, time.FixedZone("X", -5*3600))
	small := eventstore.Event{
		ID:            uuid.MustParse("01935f2e-7b1c-7d2a-9e3f-0123456789ab"),
		StreamID:      "account-ünïcødé-日本",
		StreamVersion: 42,
		Position:      eventstore.Position{TxID: 9_000_000_001, Global: 123_456_789},
		Type:          "Donated💸",
		SchemaVersion: 3,
		Data:          json.RawMessage(`{"note":"Grüße aus Köln — 日本語 🎉","html":"<b>&amp;</b>","n":1.50,"nested":{"list":[1,null,true]}}`),
		Metadata:      eventstore.Metadata{TraceID: "tr-ß", CorrelationID: "c-1", CausationID: "c-0", ActorID: "akteur-é"},
		RecordedAt:    at,
	}
	big := small
	big.ID = uuid.MustParse("01935f2e-7b1c-7d2a-9e3f-0123456789ac")
	big.StreamVersion, big.Position = 43, eventstore.Position{TxID: 9_000_000_001, Global: 123_456_790}
	big.Data = json.RawMessage(`{"blob":"` + strings.Repeat("é文", 100<<10/5) + `"}`)
	big.Metadata = eventstore.Metadata{}
	return []eventstore.Event{small, big}
}

func TestRoundTrip(t *testing.T) {
	for _, format := range []string{FormatNDJSON, FormatParquet} {
		t.Run(format, func(t *testing.T) {
			b, dir := fileBucket(t)
			ctx := context.Background()
			w := &Writer{Bucket: b, Format: format}
			want := richEvents()
			if len(want[1].Data) < 100<<10 {
				t.Fatalf("payload is only %d bytes", len(want[1].Data))
			}
			for _, e := range want {
				if _, err := w.Add(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			infos, err := w.Flush(ctx)
			if err != nil || len(infos) != 1 {
				t.Fatalf("flush: %v %+v", err, infos)
			}
			if !strings.HasPrefix(infos[0].Key, "stream=account/date=2026-11-04/00000000000123456789-00000000000123456790-") {
				t.Errorf("key %s: the date is the UTC date", infos[0].Key)
			}
			got, err := Read(ctx, b, infos[0].Key)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("read %d events, want %d", len(got), len(want))
			}
			for i := range want {
				g, e := got[i], want[i]
				if !bytes.Equal(g.Data, e.Data) {
					t.Errorf("event %d data differs (%d vs %d bytes)", i, len(g.Data), len(e.Data))
				}
				if !g.RecordedAt.Equal(e.RecordedAt) || g.RecordedAt.Location() != time.UTC {
					t.Errorf("event %d recorded at %v, want %v in UTC", i, g.RecordedAt, e.RecordedAt)
				}
				g.Data, e.Data = nil, nil
				g.RecordedAt, e.RecordedAt = time.Time{}, time.Time{}
				if g.ID != e.ID || g.StreamID != e.StreamID || g.StreamVersion != e.StreamVersion ||
					g.Position != e.Position || g.Type != e.Type || g.SchemaVersion != e.SchemaVersion || g.Metadata != e.Metadata {
					t.Errorf("event %d:\n got %+v\nwant %+v", i, g, e)
				}
			}
			noAttrs(t, dir)
		})
	}
}

func TestNDJSONLines(t *testing.T) {
	line, err := encodeLine(&richEvents()[0])
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"id", "stream_id", "stream_version", "position", "type", "schema_version", "data", "metadata", "recorded_at"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("line has no %q: %s", f, line)
		}
	}
	if string(fields["position"]) != `{"tx_id":9000000001,"global":123456789}` {
		t.Errorf("position %s", fields["position"])
	}
	if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' {
		t.Error("a line is one line")
	}
}

func TestReadRejects(t *testing.T) {
	b, _ := fileBucket(t)
	ctx := context.Background()
	for key, data := range map[string]string{
		"stream=a/date=2026-11-03/x.txt":        "hello",
		"stream=a/date=2026-11-03/x.ndjson.gz":  "not gzip",
		"stream=a/date=2026-11-03/x.parquet":    "not parquet",
		"stream=a/date=2026-11-03/y.ndjson.gz":  "",
		"stream=a/date=2026-11-03/missing.json": "",
	} {
		if data != "" {
			if err := b.WriteAll(ctx, key, []byte(data), nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := Read(ctx, b, key); err == nil {
			t.Errorf("Read(%s): no error", key)
		}
	}
	keys, err := List(ctx, b, "")
	if err != nil || len(keys) != 2 {
		t.Errorf("List keeps only archive objects: %v %v", keys, err)
	}
}
