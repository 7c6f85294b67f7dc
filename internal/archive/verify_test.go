package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"gocloud.dev/blob"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
)

var streams = map[string][]string{"users": {"account"}, "catalog": {"product", "rule"}}

// seed appends events of archived categories (and of one that is not) and
// returns the archived ones in log order.
func seed(t *testing.T, store eventstore.Store, n int) []eventstore.Event {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		cat := []string{"account", "product", "rule", "session"}[i%4]
		_, err := store.Append(ctx, &eventstore.AppendParams{Streams: []eventstore.StreamAppend{{
			StreamID: fmt.Sprintf("%s-%d", cat, i%7),
			Expected: eventstore.Any,
			Events: []eventstore.EventData{{
				Type:     "Happened",
				Data:     json.RawMessage(fmt.Sprintf(`{"i": %d, "text": "ünïcødé"}`, i)),
				Metadata: eventstore.Metadata{TraceID: fmt.Sprintf("trace-%d", i)},
			}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	var out []eventstore.Event
	after := eventstore.Start
	for {
		batch, err := store.ReadAll(ctx, &eventstore.ReadAllParams{After: after, Categories: []string{"account", "product", "rule"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			return out
		}
		out = append(out, batch...)
		after = batch[len(batch)-1].Position
	}
}

// archiveAll writes events to a fresh bucket and returns the objects.
func archiveAll(t *testing.T, format string, events []eventstore.Event) (*blob.Bucket, []ObjectInfo) {
	t.Helper()
	b, dir := fileBucket(t)
	t.Cleanup(func() { noAttrs(t, dir) })
	w := &Writer{Bucket: b, Format: format, MaxEvents: 5, StreamOf: byCategory}
	ctx := context.Background()
	var infos []ObjectInfo
	for _, e := range events {
		got, err := w.Add(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		infos = append(infos, got...)
	}
	rest, err := w.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return b, append(infos, rest...)
}

func verify(t *testing.T, b *blob.Bucket, store eventstore.Store) Report {
	t.Helper()
	rep, err := Verify(context.Background(), b, store, VerifyOptions{Streams: streams})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestVerify(t *testing.T) {
	store := storetest.OpenSQLite(t, storetest.Options{})
	events := seed(t, store, 60) // 45 archived events, 15 of an unarchived category
	ctx := context.Background()

	for _, format := range []string{FormatNDJSON, FormatParquet} {
		t.Run(format+"/complete", func(t *testing.T) {
			b, infos := archiveAll(t, format, events)
			var calls, last int
			rep, err := Verify(ctx, b, store, VerifyOptions{Streams: streams, Progress: func(done, total int) {
				calls++
				if done != calls || total != len(infos) {
					t.Errorf("progress %d/%d at call %d of %d objects", done, total, calls, len(infos))
				}
				last = done
			}})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() || rep.StoreEvents != len(events) || rep.ArchivedEvents != len(events) {
				t.Fatalf("report %+v", rep)
			}
			if last != len(infos) {
				t.Errorf("progress ended at %d of %d", last, len(infos))
			}
		})
	}

	t.Run("missing object", func(t *testing.T) {
		b, infos := archiveAll(t, FormatNDJSON, events)
		gone := infos[2]
		if err := b.Delete(ctx, gone.Key); err != nil {
			t.Fatal(err)
		}
		rep := verify(t, b, store)
		if rep.OK() || rep.MissingCount != len(gone.IDs) || rep.DuplicateCount != 0 || rep.MismatchCount != 0 {
			t.Fatalf("report %+v", rep)
		}
		for i, id := range gone.IDs {
			if rep.Missing[i] != id {
				t.Errorf("missing[%d] = %s, want %s", i, rep.Missing[i], id)
			}
		}
	})

	t.Run("duplicate after a redelivery", func(t *testing.T) {
		b, _ := archiveAll(t, FormatParquet, events)
		// A crash before the acknowledgement: the event comes again and
		// lands in a second object.
		w := &Writer{Bucket: b, Format: FormatNDJSON, StreamOf: byCategory}
		if _, err := w.Add(ctx, events[7]); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		rep := verify(t, b, store)
		if rep.OK() || rep.DuplicateCount != 1 || rep.Duplicates[0] != events[7].ID || rep.MissingCount != 0 || rep.ArchivedEvents != len(events)+1 {
			t.Fatalf("report %+v", rep)
		}
	})

	t.Run("mismatched and unknown", func(t *testing.T) {
		changed := append([]eventstore.Event(nil), events...)
		changed[3].Data = json.RawMessage(`{"i": 999}`)
		changed[4].RecordedAt = changed[4].RecordedAt.Add(1)
		stranger := changed[5]
		stranger.ID = uuid.New()
		b, _ := archiveAll(t, FormatNDJSON, append(changed, stranger))
		rep := verify(t, b, store)
		if rep.OK() || rep.MismatchCount != 2 || rep.UnknownCount != 1 || rep.Unknown[0] != stranger.ID || rep.MissingCount != 0 {
			t.Fatalf("report %+v", rep)
		}
	})

	t.Run("whitespace and key order are not a difference", func(t *testing.T) {
		respaced := append([]eventstore.Event(nil), events...)
		respaced[0].Data = json.RawMessage(`{ "text" : "ünïcødé" , "i" : 0 }`)
		b, _ := archiveAll(t, FormatParquet, respaced)
		if rep := verify(t, b, store); !rep.OK() {
			t.Fatalf("report %+v", rep)
		}
	})
}

func TestVerifyCapsLists(t *testing.T) {
	store := storetest.OpenSQLite(t, storetest.Options{})
	events := seed(t, store, 160) // 120 archived categories
	b, _ := fileBucket(t)
	rep := verify(t, b, store)
	if rep.MissingCount != len(events) || len(rep.Missing) != MaxListed || rep.StoreEvents != len(events) {
		t.Fatalf("missing %d (listed %d), store %d", rep.MissingCount, len(rep.Missing), rep.StoreEvents)
	}
	// Without a stream selection every event of the store is expected.
	all, err := Verify(context.Background(), b, store, VerifyOptions{})
	if err != nil || all.StoreEvents != 160 {
		t.Fatalf("all categories: %v %d", err, all.StoreEvents)
	}
}
