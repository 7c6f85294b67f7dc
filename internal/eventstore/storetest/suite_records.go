package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

func testIdempotency(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	if _, err := s.Idempotency(ctxT(t), "nope"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("missing key: want ErrNotFound, got %v", err)
	}
	rec := &eventstore.IdempotencyRecord{Key: "key-1", Fingerprint: "sha256:abc", Status: 201, Response: json.RawMessage(`{"id":"x","points":5}`)}
	stream := newStream("account")
	mustAppend(t, s, &eventstore.AppendParams{
		Streams:     []eventstore.StreamAppend{{StreamID: stream, Expected: eventstore.NoStream, Events: []eventstore.EventData{ev("Opened", 1)}}},
		Idempotency: rec,
	})
	got, err := s.Idempotency(ctxT(t), "key-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Fingerprint != rec.Fingerprint || got.Status != 201 || string(got.Response) != string(rec.Response) || got.CreatedAt.IsZero() {
		t.Fatalf("stored record %+v, want %+v", got, rec)
	}
	// The same key again fails the whole append and reports the stored record.
	_, err = s.Append(ctxT(t), &eventstore.AppendParams{
		Streams:     []eventstore.StreamAppend{{StreamID: stream, Expected: eventstore.Exact(1), Events: []eventstore.EventData{ev("Again", 2)}}},
		Idempotency: &eventstore.IdempotencyRecord{Key: "key-1", Fingerprint: "sha256:other", Status: 201},
	})
	var ice *eventstore.IdempotencyConflictError
	if !errors.As(err, &ice) || ice.Existing == nil || ice.Existing.Fingerprint != "sha256:abc" {
		t.Fatalf("want IdempotencyConflictError with the stored record, got %v", err)
	}
	if n := len(readStream(t, s, stream)); n != 1 {
		t.Fatalf("a refused key still appended: %d events", n)
	}
}

func testOutbox(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	a := appendOne(t, s, newStream("account"), eventstore.NoStream, ev("A", 1), ev("B", 2))
	b := appendOne(t, s, newStream("product"), eventstore.NoStream, ev("C", 3))
	want := append(a.Events, b.Events...)
	pending, err := s.PendingOutbox(ctxT(t), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != len(want) {
		t.Fatalf("outbox has %d rows, want one per event (%d)", len(pending), len(want))
	}
	for i := range pending {
		sameEvent(t, pending[i].Event, want[i])
		if i > 0 && pending[i].ID <= pending[i-1].ID {
			t.Fatalf("outbox ids not increasing")
		}
	}
	if err := s.MarkSent(ctxT(t), []int64{pending[0].ID, pending[1].ID}); err != nil {
		t.Fatal(err)
	}
	rest, err := s.PendingOutbox(ctxT(t), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 1 || rest[0].Event.ID != want[2].ID {
		t.Fatalf("after MarkSent the outbox holds %+v", rest)
	}
	limited, _ := s.PendingOutbox(ctxT(t), 0)
	if len(limited) != 1 {
		t.Fatalf("limit 0 should mean the default batch, got %d rows", len(limited))
	}
	// Sent rows stay readable until pruned, the last marked sent first.
	sent, err := s.SentOutbox(ctxT(t), time.Now().Add(-time.Minute), nil, 100)
	if err != nil || len(sent) != 2 || sent[0].Event.ID != want[1].ID || sent[1].Event.ID != want[0].ID {
		t.Fatalf("sent outbox %+v, %v", sent, err)
	}
	if page, err := s.SentOutbox(ctxT(t), time.Now().Add(-time.Minute), nil, 1); err != nil || len(page) != 1 || page[0].Event.ID != want[1].ID {
		t.Fatalf("first page of the sent outbox %+v, %v", page, err)
	}
	if page, err := s.SentOutbox(ctxT(t), time.Now().Add(-time.Minute), &sent[0], 100); err != nil || len(page) != 1 || page[0].Event.ID != want[0].ID {
		t.Fatalf("sent outbox after %d: %+v, %v", sent[0].ID, page, err)
	}
	if later, _ := s.SentOutbox(ctxT(t), time.Now().Add(time.Minute), nil, 100); len(later) != 0 {
		t.Fatalf("rows sent before since were returned: %d", len(later))
	}
	if err := s.MarkSent(ctxT(t), []int64{pending[0].ID}); err != nil {
		t.Fatalf("marking a sent row again: %v", err)
	}
	if n, err := s.PruneOutbox(ctxT(t), time.Now().Add(-time.Minute)); err != nil || n != 0 {
		t.Fatalf("prune of nothing old: %d, %v", n, err)
	}
	if n, err := s.PruneOutbox(ctxT(t), time.Now().Add(time.Minute)); err != nil || n != 2 {
		t.Fatalf("prune: %d, %v; want the 2 sent rows", n, err)
	}
	if rest, _ := s.PendingOutbox(ctxT(t), 100); len(rest) != 1 {
		t.Fatalf("prune removed unsent rows: %d left", len(rest))
	}
}

// The relay marks a round sent and reads the next one together: the read
// comes after the mark, and what it returns is what PendingOutbox would.
func testMarkSentThenPending(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	for i := range 3 {
		appendOne(t, s, newStream("account"), eventstore.NoStream, ev("A", i))
	}
	pending, err := s.MarkSentThenPending(ctxT(t), nil, 100)
	if err != nil || len(pending) != 3 {
		t.Fatalf("nothing marked: %d rows, %v", len(pending), err)
	}
	c := appendOne(t, s, newStream("account"), eventstore.NoStream, ev("B", 4))
	next, err := s.MarkSentThenPending(ctxT(t), []int64{pending[0].ID, pending[1].ID}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 2 || next[0].ID != pending[2].ID || next[1].Event.ID != c.Events[0].ID {
		t.Fatalf("after marking two of three, then one more appended: %+v", next)
	}
	if limited, err := s.MarkSentThenPending(ctxT(t), []int64{next[0].ID}, 0); err != nil || len(limited) != 1 {
		t.Fatalf("limit 0 should mean the default batch: %d rows, %v", len(limited), err)
	}
	if still, _ := s.PendingOutbox(ctxT(t), 100); len(still) != 1 || still[0].Event.ID != c.Events[0].ID {
		t.Fatalf("the outbox holds %+v, want only the last append's row", still)
	}
	if sent, err := s.SentOutbox(ctxT(t), time.Now().Add(-time.Minute), nil, 100); err != nil || len(sent) != 3 {
		t.Fatalf("sent outbox %d rows, %v; want 3", len(sent), err)
	}
}

// Sent rows read back in the order they were marked sent, which is the
// order the relay published them, not in id order: appends that commit
// concurrently take ids in one order and commit in another.
func testSentOutboxOrder(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	var ids []int64
	for i := range 3 {
		appendOne(t, s, newStream("account"), eventstore.NoStream, ev("A", i))
	}
	pending, err := s.PendingOutbox(ctxT(t), 100)
	if err != nil || len(pending) != 3 {
		t.Fatalf("outbox %d rows, %v", len(pending), err)
	}
	for _, i := range []int{2, 0, 1} {
		if err := s.MarkSent(ctxT(t), []int64{pending[i].ID}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // distinct times of marking
	}
	for before := (*eventstore.OutboxEntry)(nil); ; {
		page, err := s.SentOutbox(ctxT(t), time.Now().Add(-time.Minute), before, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		ids, before = append(ids, page[0].ID), &page[0]
	}
	if want := []int64{pending[1].ID, pending[0].ID, pending[2].ID}; !slices.Equal(ids, want) {
		t.Fatalf("sent rows read back as %v, want the last marked first: %v", ids, want)
	}
}

func testLeases(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	a, ok, err := s.TryLease(ctxT(t), "relay")
	if err != nil || !ok {
		t.Fatalf("first lease: %v %v", ok, err)
	}
	if _, ok, err := s.TryLease(ctxT(t), "relay"); err != nil || ok {
		t.Fatalf("a second holder got the lease: %v %v", ok, err)
	}
	other, ok, err := s.TryLease(ctxT(t), "projector.accounts")
	if err != nil || !ok {
		t.Fatalf("another name is independent: %v %v", ok, err)
	}
	defer other.Release()
	select {
	case <-a.Lost():
		t.Fatal("a held lease reports lost")
	default:
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	b, ok, err := s.TryLease(ctxT(t), "relay")
	if err != nil || !ok {
		t.Fatalf("lease after release: %v %v", ok, err)
	}
	b.Release()
	if _, _, err := s.TryLease(ctxT(t), ""); err == nil {
		t.Fatal("an empty lease name must be refused")
	}
}

func testTraceSteps(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	mustAppend(t, s, &eventstore.AppendParams{
		Streams:    []eventstore.StreamAppend{{StreamID: newStream("account"), Expected: eventstore.NoStream, Events: []eventstore.EventData{ev("Opened", 1)}}},
		TraceSteps: []eventstore.TraceStep{{TraceID: "tr-1", Step: "command.OpenAccount", Status: "applied", Detail: "1 event", At: at}},
	})
	if err := s.RecordTraceSteps(ctxT(t), []eventstore.TraceStep{
		{TraceID: "tr-1", Step: "relay", Status: "published"},
		{TraceID: "tr-2", Step: "other", Status: "x"},
	}); err != nil {
		t.Fatal(err)
	}
	steps, err := s.TraceSteps(ctxT(t), "tr-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || steps[0].Step != "command.OpenAccount" || steps[0].Detail != "1 event" ||
		!steps[0].At.Equal(at) || steps[1].Step != "relay" || steps[1].At.IsZero() {
		t.Fatalf("trace steps %+v", steps)
	}
	err = s.RecordTraceSteps(ctxT(t), []eventstore.TraceStep{{TraceID: "", Step: "x"}})
	wantValidation(t, err, "trace_steps[0].trace_id")
}

func testPruneTraceSteps(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	now := time.Now().UTC()
	old, young := now.Add(-48*time.Hour), now.Add(-time.Minute)
	var steps []eventstore.TraceStep
	for i := range 5 {
		steps = append(steps, eventstore.TraceStep{TraceID: "old", Step: fmt.Sprintf("s%d", i), Status: "ok", At: old})
	}
	// A young step, then an old straggler stored after it.
	steps = append(steps,
		eventstore.TraceStep{TraceID: "young", Step: "s0", Status: "ok", At: young},
		eventstore.TraceStep{TraceID: "straggler", Step: "s0", Status: "ok", At: old})
	if err := s.RecordTraceSteps(ctxT(t), steps); err != nil {
		t.Fatal(err)
	}
	cutoff := now.Add(-24 * time.Hour)
	count := func(trace string) int {
		got, err := s.TraceSteps(ctxT(t), trace)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n, err := s.PruneTraceSteps(ctxT(t), cutoff, 3); err != nil || n != 3 {
		t.Fatalf("first prune: %d, %v; want the limit of 3", n, err)
	}
	if n, err := s.PruneTraceSteps(ctxT(t), cutoff, 100); err != nil || n != 2 {
		t.Fatalf("second prune: %d, %v; want the 2 old steps left before the young one", n, err)
	}
	if c := count("old"); c != 0 {
		t.Fatalf("%d old steps left", c)
	}
	if c := count("young"); c != 1 {
		t.Fatalf("%d young steps left, want 1", c)
	}
	if c := count("straggler"); c != 1 {
		t.Fatalf("the straggler after a young step was deleted (%d left)", c)
	}
	if n, err := s.PruneTraceSteps(ctxT(t), now, 100); err != nil || n != 2 {
		t.Fatalf("prune of everything: %d, %v; want the young step and the straggler", n, err)
	}
}

func testLargePayload(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	body := `{"blob":"` + strings.Repeat("x", eventstore.MaxEventDataBytes-11) + `"}`
	if len(body) != eventstore.MaxEventDataBytes {
		t.Fatalf("test payload is %d bytes", len(body))
	}
	stream := newStream("account")
	appendOne(t, s, stream, eventstore.NoStream, eventstore.EventData{Type: "Big", Data: json.RawMessage(body)})
	got := readStream(t, s, stream)
	if len(got) != 1 || string(got[0].Data) != body {
		t.Fatalf("1 MiB payload did not round-trip")
	}
	tooBig := `{"blob":"` + strings.Repeat("x", eventstore.MaxEventDataBytes-10) + `"}`
	_, err := s.Append(ctxT(t), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
		{StreamID: stream, Expected: eventstore.Any, Events: []eventstore.EventData{{Type: "Big", Data: json.RawMessage(tooBig)}}}}})
	wantValidation(t, err, "streams[0].events[0].data")
}

func testUnicode(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	stream := "account-Zoë-東京-🚓"
	data := json.RawMessage(`{"name":"José Ñúñez","city":"東京","note":"👮‍♀️ met 🧑 at the café","rtl":"שלום","escaped":"\u00e9\n"}`)
	e := eventstore.EventData{Type: "Opened·ü", Data: data, Metadata: eventstore.Metadata{ActorID: "acteur-é", TraceID: "追跡"}}
	res := appendOne(t, s, stream, eventstore.NoStream, e)
	got := readStream(t, s, stream)
	if len(got) != 1 {
		t.Fatalf("read %d events", len(got))
	}
	sameEvent(t, got[0], res.Events[0])
	if string(got[0].Data) != string(data) {
		t.Fatalf("unicode payload changed: %s", got[0].Data)
	}
}

func testInvalidInput(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	good := func() eventstore.EventData { return ev("Ok", 1) }
	one := func(sa eventstore.StreamAppend) *eventstore.AppendParams {
		return &eventstore.AppendParams{Streams: []eventstore.StreamAppend{sa}}
	}
	cases := []struct {
		name   string
		params *eventstore.AppendParams
		field  string
	}{
		{"no streams", &eventstore.AppendParams{}, "streams"},
		{"empty stream id", one(eventstore.StreamAppend{StreamID: "", Events: []eventstore.EventData{good()}}), "streams[0].stream_id"},
		{"stream id without category", one(eventstore.StreamAppend{StreamID: "nocategory", Events: []eventstore.EventData{good()}}), "streams[0].stream_id"},
		{"upper-case category", one(eventstore.StreamAppend{StreamID: "Account-1", Events: []eventstore.EventData{good()}}), "streams[0].stream_id"},
		{"negative expected version", one(eventstore.StreamAppend{StreamID: "account-1", Expected: -2, Events: []eventstore.EventData{good()}}), "streams[0].expected"},
		{"bad JSON", one(eventstore.StreamAppend{StreamID: "account-1", Events: []eventstore.EventData{{Type: "X", Data: json.RawMessage(`{"a":`)}}}), "streams[0].events[0].data"},
		{"JSON that is not an object", one(eventstore.StreamAppend{StreamID: "account-1", Events: []eventstore.EventData{{Type: "X", Data: json.RawMessage(`[1,2]`)}}}), "streams[0].events[0].data"},
		{"empty data", one(eventstore.StreamAppend{StreamID: "account-1", Events: []eventstore.EventData{{Type: "X"}}}), "streams[0].events[0].data"},
		{"empty type", one(eventstore.StreamAppend{StreamID: "account-1", Events: []eventstore.EventData{{Data: json.RawMessage(`{}`)}}}), "streams[0].events[0].type"},
		{"negative schema version", one(eventstore.StreamAppend{StreamID: "account-1", Events: []eventstore.EventData{{Type: "X", SchemaVersion: -1, Data: json.RawMessage(`{}`)}}}), "streams[0].events[0].schema_version"},
		{"same stream twice", &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
			{StreamID: "account-1", Events: []eventstore.EventData{good()}},
			{StreamID: "account-1", Events: []eventstore.EventData{good()}}}}, "streams[1].stream_id"},
		{"empty idempotency key", &eventstore.AppendParams{
			Streams:     []eventstore.StreamAppend{{StreamID: "account-1", Events: []eventstore.EventData{good()}}},
			Idempotency: &eventstore.IdempotencyRecord{Fingerprint: "f"}}, "idempotency.key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Append(ctxT(t), tc.params)
			wantValidation(t, err, tc.field)
		})
	}
	if all := readAll(t, s, eventstore.ReadAllParams{}); len(all) != 0 {
		t.Fatalf("invalid appends wrote %d events", len(all))
	}
	_, err := s.ReadStream(ctxT(t), &eventstore.ReadStreamParams{StreamID: "account-1", FromVersion: -1})
	wantValidation(t, err, "from_version")
	_, err = s.ReadStream(ctxT(t), &eventstore.ReadStreamParams{StreamID: ""})
	wantValidation(t, err, "stream_id")
	_, err = s.ReadAll(ctxT(t), &eventstore.ReadAllParams{Limit: -1})
	wantValidation(t, err, "limit")
	_, err = s.ReadAll(ctxT(t), &eventstore.ReadAllParams{After: eventstore.Position{Global: -1}})
	wantValidation(t, err, "after")
}

func testSubscribe(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	sig, cancel := s.Subscribe()
	defer cancel()
	appendOne(t, s, newStream("account"), eventstore.NoStream, ev("Opened", 1))
	select {
	case <-sig:
	case <-time.After(10 * time.Second):
		t.Fatal("no signal after a commit")
	}
}
