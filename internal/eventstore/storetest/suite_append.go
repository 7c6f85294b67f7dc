package storetest

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

func testAppendAndReadStream(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	stream := newStream("account")
	res := appendOne(t, s, stream, eventstore.NoStream, ev("Opened", 1), ev("Credited", 2), ev("Credited", 3))
	if len(res.Events) != 3 {
		t.Fatalf("appended %d events, want 3", len(res.Events))
	}
	for i, e := range res.Events {
		if e.StreamVersion != int64(i+1) {
			t.Fatalf("event %d has version %d", i, e.StreamVersion)
		}
		if e.SchemaVersion != 1 {
			t.Fatalf("schema version defaults to %d, want 1", e.SchemaVersion)
		}
		if e.ID.Version() != 7 {
			t.Fatalf("event id %s is not a UUIDv7", e.ID)
		}
		if i > 0 && !res.Events[i-1].Position.Less(e.Position) {
			t.Fatalf("positions not increasing: %+v then %+v", res.Events[i-1].Position, e.Position)
		}
	}
	got := readStream(t, s, stream)
	if len(got) != 3 {
		t.Fatalf("read %d events, want 3", len(got))
	}
	for i := range got {
		sameEvent(t, got[i], res.Events[i])
	}
	from, err := s.ReadStream(ctxT(t), &eventstore.ReadStreamParams{StreamID: stream, FromVersion: 2, Limit: 1})
	if err != nil || len(from) != 1 || from[0].StreamVersion != 2 {
		t.Fatalf("read from version 2 limit 1: %v %+v", err, from)
	}
	if v, err := s.StreamVersion(ctxT(t), stream); err != nil || v != 3 {
		t.Fatalf("stream version = %d, %v; want 3", v, err)
	}
	if v, err := s.StreamVersion(ctxT(t), newStream("account")); err != nil || v != 0 {
		t.Fatalf("version of a missing stream = %d, %v; want 0", v, err)
	}
	if evs := readStream(t, s, newStream("account")); len(evs) != 0 {
		t.Fatalf("missing stream read %d events", len(evs))
	}
}

func testAppendSeveralStreams(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	a, b := newStream("account"), newStream("account")
	appendOne(t, s, a, eventstore.NoStream, ev("Opened", 1))
	res := mustAppend(t, s, &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
		{StreamID: a, Expected: eventstore.Exact(1), Events: []eventstore.EventData{ev("Debited", 5)}},
		{StreamID: b, Expected: eventstore.NoStream, Events: []eventstore.EventData{ev("Opened", 1), ev("Credited", 5)}},
	}})
	if len(res.Events) != 3 || res.Events[0].StreamID != a || res.Events[0].StreamVersion != 2 ||
		res.Events[2].StreamID != b || res.Events[2].StreamVersion != 2 {
		t.Fatalf("unexpected result %+v", res.Events)
	}
	if n := len(readStream(t, s, a)); n != 2 {
		t.Fatalf("stream a has %d events, want 2", n)
	}
	if n := len(readStream(t, s, b)); n != 2 {
		t.Fatalf("stream b has %d events, want 2", n)
	}
}

func testExpectedVersions(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	existing := newStream("account")
	appendOne(t, s, existing, eventstore.NoStream, ev("A", 1), ev("B", 2))
	cases := []struct {
		name     string
		stream   string
		expected eventstore.ExpectedVersion
		actual   int64 // version before the append
		ok       bool
	}{
		{"no stream on a new stream", newStream("account"), eventstore.NoStream, 0, true},
		{"no stream on an existing stream", existing, eventstore.NoStream, 2, false},
		{"exact on a new stream", newStream("account"), eventstore.Exact(1), 0, false},
		{"exact, too low", existing, eventstore.Exact(1), 2, false},
		{"exact, too high", existing, eventstore.Exact(3), 2, false},
		{"any on a new stream", newStream("account"), eventstore.Any, 0, true},
		{"exact, right", existing, eventstore.Exact(2), 2, true},
		{"any on an existing stream", existing, eventstore.Any, 3, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := s.StreamVersion(ctxT(t), tc.stream)
			if before != tc.actual {
				t.Fatalf("setup: stream at %d, want %d", before, tc.actual)
			}
			res, err := s.Append(ctxT(t), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
				{StreamID: tc.stream, Expected: tc.expected, Events: []eventstore.EventData{ev("X", 1)}}}})
			after, _ := s.StreamVersion(ctxT(t), tc.stream)
			if tc.ok {
				if err != nil {
					t.Fatalf("append: %v", err)
				}
				if res.Events[0].StreamVersion != tc.actual+1 || after != tc.actual+1 {
					t.Fatalf("version %d / stream at %d, want %d", res.Events[0].StreamVersion, after, tc.actual+1)
				}
				return
			}
			wantConcurrency(t, err, tc.stream, tc.actual)
			if after != tc.actual {
				t.Fatalf("a refused append moved the stream to %d", after)
			}
		})
	}
}

// A command may depend on a stream it does not change: its version is checked
// and nothing is appended to it.
func testCheckOnlyStream(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	dep, target := newStream("charity"), newStream("account")
	appendOne(t, s, dep, eventstore.NoStream, ev("Verified", 1))
	mustAppend(t, s, &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
		{StreamID: dep, Expected: eventstore.Exact(1)},
		{StreamID: target, Expected: eventstore.NoStream, Events: []eventstore.EventData{ev("Donated", 1)}},
	}})
	appendOne(t, s, dep, eventstore.Exact(1), ev("Closed", 2))
	_, err := s.Append(ctxT(t), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
		{StreamID: dep, Expected: eventstore.Exact(1)},
		{StreamID: target, Expected: eventstore.Exact(1), Events: []eventstore.EventData{ev("Donated", 2)}},
	}})
	wantConcurrency(t, err, dep, 2)
	if n := len(readStream(t, s, target)); n != 1 {
		t.Fatalf("target has %d events after a refused append, want 1", n)
	}
}

// 50 writers race for each version of one stream: exactly one wins each.
func testConcurrentWritersOneStream(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	stream := newStream("account")
	const writers, rounds = 50, 4
	for round := 0; round < rounds; round++ {
		expected := eventstore.ExpectedVersion(round) // NoStream first, then exact versions
		var (
			wg        sync.WaitGroup
			start     = make(chan struct{})
			mu        sync.Mutex
			wins      int
			conflicts int
		)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				<-start
				_, err := s.Append(ctxT(t), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
					{StreamID: stream, Expected: expected, Events: []eventstore.EventData{ev("Race", w)}}}})
				mu.Lock()
				defer mu.Unlock()
				var ce *eventstore.ConcurrencyError
				switch {
				case err == nil:
					wins++
				case errors.As(err, &ce):
					conflicts++
				default:
					t.Errorf("writer %d: unexpected error %v", w, err)
				}
			}(w)
		}
		close(start)
		wg.Wait()
		if wins != 1 || conflicts != writers-1 {
			t.Fatalf("round %d: %d wins and %d conflicts, want 1 and %d", round, wins, conflicts, writers-1)
		}
	}
	evs := readStream(t, s, stream)
	if len(evs) != rounds {
		t.Fatalf("stream has %d events, want %d", len(evs), rounds)
	}
	for i, e := range evs {
		if e.StreamVersion != int64(i+1) {
			t.Fatalf("version gap: event %d has version %d", i, e.StreamVersion)
		}
	}
}

// A multi-stream append that fails on its second stream leaves nothing: no
// events, no outbox rows, no idempotency record, no trace steps.
func testFailedAppendWritesNothing(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	a, b := newStream("account"), newStream("account")
	appendOne(t, s, b, eventstore.NoStream, ev("Opened", 1))
	before := readAll(t, s, eventstore.ReadAllParams{})
	outboxBefore, err := s.PendingOutbox(ctxT(t), 1000)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Append(ctxT(t), &eventstore.AppendParams{
		Streams: []eventstore.StreamAppend{
			{StreamID: a, Expected: eventstore.NoStream, Events: []eventstore.EventData{ev("Opened", 1), ev("Debited", 2)}},
			{StreamID: b, Expected: eventstore.NoStream, Events: []eventstore.EventData{ev("Credited", 2)}},
		},
		Idempotency: &eventstore.IdempotencyRecord{Key: "k-atomic", Fingerprint: "f", Status: 201, Response: json.RawMessage(`{}`)},
		TraceSteps:  []eventstore.TraceStep{{TraceID: "t-atomic", Step: "command", Status: "applied"}},
	})
	wantConcurrency(t, err, b, 1)
	if after := readAll(t, s, eventstore.ReadAllParams{}); len(after) != len(before) {
		t.Fatalf("global log grew from %d to %d events", len(before), len(after))
	}
	if n := len(readStream(t, s, a)); n != 0 {
		t.Fatalf("stream a has %d events", n)
	}
	if ob, _ := s.PendingOutbox(ctxT(t), 1000); len(ob) != len(outboxBefore) {
		t.Fatalf("outbox grew from %d to %d", len(outboxBefore), len(ob))
	}
	if _, err := s.Idempotency(ctxT(t), "k-atomic"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("idempotency record written by a failed append: %v", err)
	}
	if steps, _ := s.TraceSteps(ctxT(t), "t-atomic"); len(steps) != 0 {
		t.Fatalf("trace steps written by a failed append: %+v", steps)
	}
}

// Concurrent appends are counted in the store's group commit: one write
// each, in at least one group and at most one group each.
func testGroupStats(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	gc, ok := s.(eventstore.GroupCommitter)
	if !ok {
		t.Fatalf("%T does not report its group commit", s)
	}
	before := gc.GroupStats()
	const appends = 40
	var wg sync.WaitGroup
	for i := range appends {
		wg.Go(func() {
			// Not appendOne: t.Fatal must not run on another goroutine.
			if _, err := s.Append(ctxT(t), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
				{StreamID: newStream("account"), Expected: eventstore.NoStream, Events: []eventstore.EventData{ev("Grouped", i)}}}}); err != nil {
				t.Errorf("append %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	after := gc.GroupStats()
	writes, groups := after.Writes-before.Writes, after.Groups-before.Groups
	if writes != appends || groups < 1 || groups > writes || after.Fallbacks != before.Fallbacks {
		t.Fatalf("%d appends counted as %d writes in %d groups, %d fallbacks", appends, writes, groups, after.Fallbacks-before.Fallbacks)
	}
}
