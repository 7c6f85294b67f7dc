// Package storetest is the one conformance suite every event store driver
// passes. A behaviour of the store is defined here first; a driver is correct
// when Run passes against it.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Options are what a test asks of the driver under test.
type Options struct {
	// BeforeCommit, when set, runs inside each write transaction just before
	// it commits. The late-commit test uses it to hold transactions open.
	BeforeCommit func(ctx context.Context)
}

// Harness opens a fresh, empty store for one test.
type Harness struct {
	// Open returns a new empty store; it is closed by the test's cleanup.
	Open func(t *testing.T, opts Options) eventstore.Store
	// ConcurrentCommits is true when write transactions can commit out of
	// position order (Postgres), so the late-commit test is meaningful.
	ConcurrentCommits bool
}

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"AppendAndReadStream", testAppendAndReadStream},
		{"AppendSeveralStreams", testAppendSeveralStreams},
		{"ExpectedVersions", testExpectedVersions},
		{"CheckOnlyStream", testCheckOnlyStream},
		{"ConcurrentWritersOneStream", testConcurrentWritersOneStream},
		{"FailedAppendWritesNothing", testFailedAppendWritesNothing},
		{"GroupStats", testGroupStats},
		{"GlobalOrderAndFilters", testGlobalOrderAndFilters},
		{"LateCommitNeverSkipped", testLateCommitNeverSkipped},
		{"StreamOrderInGlobalLog", testStreamOrderInGlobalLog},
		{"Idempotency", testIdempotency},
		{"Outbox", testOutbox},
		{"SentOutboxInPublishOrder", testSentOutboxOrder},
		{"MarkSentThenPending", testMarkSentThenPending},
		{"TraceSteps", testTraceSteps},
		{"PruneTraceSteps", testPruneTraceSteps},
		{"LargePayload", testLargePayload},
		{"Unicode", testUnicode},
		{"InvalidInput", testInvalidInput},
		{"Subscribe", testSubscribe},
		{"Claims", testClaims},
		{"ConcurrentClaims", testConcurrentClaims},
		{"VersionsCheckedFirst", testVersionsCheckedFirst},
		{"Credentials", testCredentials},
		{"DataKeys", testDataKeys},
		{"DataKeysWithAppend", testDataKeysWithAppend},
		{"Leases", testLeases},
		{"Head", testHead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// ev makes an event with a small JSON payload.
func ev(typ string, n int) eventstore.EventData {
	return eventstore.EventData{
		Type:     typ,
		Data:     json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
		Metadata: eventstore.Metadata{TraceID: "trace-" + typ, ActorID: "actor"},
	}
}

func newStream(category string) string { return eventstore.StreamID(category, uuid.NewString()) }

func mustAppend(t *testing.T, s eventstore.Store, p *eventstore.AppendParams) *eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(ctxT(t), p)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return res
}

func appendOne(t *testing.T, s eventstore.Store, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) *eventstore.AppendResult {
	t.Helper()
	return mustAppend(t, s, &eventstore.AppendParams{Streams: []eventstore.StreamAppend{{StreamID: stream, Expected: exp, Events: evs}}})
}

func readStream(t *testing.T, s eventstore.Store, stream string) []eventstore.Event {
	t.Helper()
	evs, err := s.ReadStream(ctxT(t), &eventstore.ReadStreamParams{StreamID: stream})
	if err != nil {
		t.Fatalf("read stream %s: %v", stream, err)
	}
	return evs
}

// readAll reads the global log after a position until it has everything
// committed so far: up to the head, not merely to the first empty batch,
// which on Postgres may come early while an unrelated transaction anywhere
// on the server is still open.
func readAll(t *testing.T, s eventstore.Store, p eventstore.ReadAllParams) []eventstore.Event {
	t.Helper()
	if len(p.Types) > 0 {
		// The head may be of another type: first read up to it without the
		// type filter, then everything it covers is visible to the real read.
		sync := p
		sync.Types = nil
		readAll(t, s, sync)
		var out []eventstore.Event
		for {
			batch, err := s.ReadAll(ctxT(t), &p)
			if err != nil {
				t.Fatalf("read all: %v", err)
			}
			if len(batch) == 0 {
				return out
			}
			out = append(out, batch...)
			p.After = batch[len(batch)-1].Position
		}
	}
	head, ok, err := s.Head(ctxT(t), p.Categories)
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	var out []eventstore.Event
	seen := !ok
	deadline := time.Now().Add(time.Minute)
	for {
		batch, err := s.ReadAll(ctxT(t), &p)
		if err != nil {
			t.Fatalf("read all: %v", err)
		}
		for _, e := range batch {
			seen = seen || e.ID == head
		}
		out = append(out, batch...)
		if len(batch) > 0 {
			p.After = batch[len(batch)-1].Position
			continue
		}
		if seen {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("the global log never reached its head %s (%d events read)", head, len(out))
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}

func testHead(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	if _, ok, err := s.Head(ctxT(t), nil); err != nil || ok {
		t.Fatalf("head of an empty store: %v %v", ok, err)
	}
	a := appendOne(t, s, newStream("account"), eventstore.NoStream, ev("A", 1))
	p := appendOne(t, s, newStream("product"), eventstore.NoStream, ev("P", 1))
	if id, ok, err := s.Head(ctxT(t), nil); err != nil || !ok || id != p.Events[0].ID {
		t.Fatalf("head = %s %v %v, want the product event", id, ok, err)
	}
	if id, ok, err := s.Head(ctxT(t), []string{"account"}); err != nil || !ok || id != a.Events[0].ID {
		t.Fatalf("head of accounts = %s %v %v", id, ok, err)
	}
	if _, ok, _ := s.Head(ctxT(t), []string{"rule"}); ok {
		t.Fatal("a category without events has a head")
	}
}

func wantConcurrency(t *testing.T, err error, stream string, actual int64) {
	t.Helper()
	var ce *eventstore.ConcurrencyError
	if !errors.As(err, &ce) {
		t.Fatalf("want *ConcurrencyError, got %v", err)
	}
	if ce.StreamID != stream || ce.Actual != actual {
		t.Fatalf("concurrency error names %s at %d, want %s at %d", ce.StreamID, ce.Actual, stream, actual)
	}
}

func wantValidation(t *testing.T, err error, field string) {
	t.Helper()
	var ve *eventstore.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError for %s, got %v", field, err)
	}
	if ve.Field != field {
		t.Fatalf("validation error names %q (%s), want %q", ve.Field, ve.Reason, field)
	}
}

// sameEvent compares a read event with an appended one, field by field.
func sameEvent(t *testing.T, got, want eventstore.Event) {
	t.Helper()
	if got.ID != want.ID || got.StreamID != want.StreamID || got.StreamVersion != want.StreamVersion ||
		got.Type != want.Type || got.SchemaVersion != want.SchemaVersion || got.Position != want.Position ||
		got.Metadata != want.Metadata || !got.RecordedAt.Equal(want.RecordedAt) {
		t.Fatalf("event differs:\n got %+v\nwant %+v", got, want)
	}
	if string(got.Data) != string(want.Data) {
		t.Fatalf("event %s data differs:\n got %.200s\nwant %.200s", got.ID, got.Data, want.Data)
	}
}
