package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// held is a store with one committer whose next commit can be held, so
// that the appends sent meanwhile queue and then commit as one group.
type held struct {
	*postgres.Store
	url, schema string
	armed       atomic.Bool
	entered     chan struct{}
	release     chan struct{}
}

func openHeld(t *testing.T, configure ...func(*postgres.Config)) *held {
	t.Helper()
	url := testenv.Postgres(t)
	h := &held{url: url, schema: storetest.NewSchema(t, url), entered: make(chan struct{}), release: make(chan struct{})}
	if err := postgres.Migrate(context.Background(), postgres.MigrateParams{URL: url, Schema: h.schema}); err != nil {
		t.Fatal(err)
	}
	cfg := postgres.Config{URL: url, Schema: h.schema, Committers: 1,
		BeforeCommit: func(context.Context) {
			if h.armed.CompareAndSwap(true, false) {
				h.entered <- struct{}{}
				<-h.release
			}
		}}
	for _, c := range configure {
		c(&cfg)
	}
	s, err := postgres.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	h.Store = s
	return h
}

// group appends each of ps while the committer is held on another append,
// so that they queue, then lets it go, and returns each one's outcome.
func (h *held) group(t *testing.T, ps ...*eventstore.AppendParams) ([]*eventstore.AppendResult, []error) {
	t.Helper()
	ctx := context.Background()
	h.armed.Store(true)
	blocker := make(chan error, 1)
	go func() {
		_, err := h.Append(ctx, one(eventstore.StreamID("blocker", uuid.NewString()), eventstore.NoStream))
		blocker <- err
	}()
	<-h.entered
	results, errs := make([]*eventstore.AppendResult, len(ps)), make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() { results[i], errs[i] = h.Append(ctx, p) })
	}
	deadline := time.Now().Add(15 * time.Second)
	for postgres.Waiting(h.Store) < int64(len(ps)) {
		if time.Now().After(deadline) {
			t.Fatalf("%d appends waiting for the committer, want %d", postgres.Waiting(h.Store), len(ps))
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
	close(h.release)
	if err := <-blocker; err != nil {
		t.Fatalf("the held append: %v", err)
	}
	wg.Wait()
	h.release = make(chan struct{})
	return results, errs
}

// Every round trip of an append is a wait for the appends queued behind
// it, the longer the busier the server. An append takes two: its
// statements with the begin, then the commit; with a stream appended with
// Any, one more before them, the begin with the lock and the read of the
// version. A group takes two: the begin with its reads, then its writes
// with the commit.
func TestAppendRoundTrips(t *testing.T) {
	rt := &postgres.RoundTrips{}
	h := openHeld(t, func(c *postgres.Config) { postgres.CountRoundTrips(c, rt) })
	stream := func() string { return eventstore.StreamID("trip", uuid.NewString()) }
	mustAppend(t, h, one(stream(), eventstore.NoStream))
	rt.Take()
	mustAppend(t, h, one(stream(), eventstore.NoStream))
	if sent := rt.Take(); len(sent) != 2 {
		t.Errorf("an append took %d round trips, want 2: %q", len(sent), sent)
	}
	s := stream()
	mustAppend(t, h, one(s, eventstore.Any))
	rt.Take()
	mustAppend(t, h, one(s, eventstore.Any))
	if sent := rt.Take(); len(sent) != 3 {
		t.Errorf("an append with Any took %d round trips, want 3: %q", len(sent), sent)
	}
	for round := range 2 { // the first group prepares its statements
		_, errs := h.group(t, one(stream(), eventstore.NoStream), one(stream(), eventstore.NoStream), one(stream(), eventstore.NoStream))
		for i, err := range errs {
			if err != nil {
				t.Fatalf("append %d of the group: %v", i, err)
			}
		}
		if sent := rt.Take(); round == 1 && len(sent) != 2+2 {
			t.Errorf("the held append and a group took %d round trips, want 2+2: %q", len(sent), sent)
		}
	}
	if n := postgres.Fallbacks(h.Store); n != 0 {
		t.Errorf("%d groups fell back to appends alone", n)
	}
}

func one(stream string, expected eventstore.ExpectedVersion, typ ...string) *eventstore.AppendParams {
	var events []eventstore.EventData
	for i, t := range append([]string{"Opened"}, typ...) {
		events = append(events, eventstore.EventData{Type: t, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	return &eventstore.AppendParams{Streams: []eventstore.StreamAppend{{StreamID: stream, Expected: expected, Events: events}}}
}

func mustAppend(t *testing.T, s eventstore.Store, p *eventstore.AppendParams) *eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Appends that queue while the committer is busy commit in one
// transaction, each checked as it would be alone: the refused ones write
// nothing and get the error they would get alone.
func TestGroupCommitChecksEachAppend(t *testing.T) {
	t.Parallel()
	h := openHeld(t)
	ctx := context.Background()
	stream := func() string { return eventstore.StreamID("account", uuid.NewString()) }
	existing, stale, anyStream, pinned := stream(), stream(), stream(), stream()
	for _, s := range []string{existing, stale, pinned} {
		mustAppend(t, h, one(s, eventstore.NoStream))
	}
	mustAppend(t, h, one(anyStream, eventstore.NoStream, "A", "B"))
	taken := one(stream(), eventstore.NoStream)
	taken.Claims = []eventstore.Claim{{Scope: "email", Value: "taken", Owner: "owner-1"}}
	taken.Idempotency = &eventstore.IdempotencyRecord{Key: "key-taken", Fingerprint: "f", Status: 201, Response: json.RawMessage(`{"id":1}`)}
	taken.DataKeys = []eventstore.DataKey{{Subject: "subject-taken", Wrapped: []byte("k")}}
	mustAppend(t, h, taken)

	full, fullStream := one(stream(), eventstore.NoStream, "Named"), ""
	fullStream = full.Streams[0].StreamID
	full.Idempotency = &eventstore.IdempotencyRecord{Key: "key-new", Fingerprint: "f", Status: 201, Response: json.RawMessage(`{"ok":true}`)}
	full.Claims = []eventstore.Claim{{Scope: "email", Value: "new", Owner: fullStream}}
	full.Credentials = []eventstore.Credential{{Subject: fullStream, Secret: []byte("hash")}}
	full.DataKeys = []eventstore.DataKey{{Subject: fullStream, Wrapped: []byte("key")}}
	full.TraceSteps = []eventstore.TraceStep{{TraceID: "trace-full", Step: "command.Full", Status: "applied"}}
	claimed := one(stream(), eventstore.NoStream)
	claimed.Claims = []eventstore.Claim{{Scope: "email", Value: "taken", Owner: "owner-2"}}
	twin := one(stream(), eventstore.NoStream)
	twin.Idempotency = &eventstore.IdempotencyRecord{Key: "key-taken", Fingerprint: "g", Status: 201}
	keyed := one(stream(), eventstore.NoStream)
	keyed.DataKeys = []eventstore.DataKey{{Subject: "subject-taken", Wrapped: []byte("other")}}
	pin := &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
		{StreamID: pinned, Expected: eventstore.Exact(1)},
		{StreamID: stream(), Expected: eventstore.NoStream},
	}}

	results, errs := h.group(t,
		full,                                // 0: everything new
		one(existing, eventstore.Exact(1)),  // 1: at the version expected
		one(stale, eventstore.Exact(5)),     // 2: stale
		claimed,                             // 3: claim held by another
		twin,                                // 4: key recorded already
		keyed,                               // 5: data key exists
		one(anyStream, eventstore.Any, "C"), // 6: Any on a stream at 2
		pin,                                 // 7: pins only
	)
	for _, i := range []int{0, 1, 6, 7} {
		if errs[i] != nil {
			t.Fatalf("append %d: %v", i, errs[i])
		}
	}
	var conflict *eventstore.ConcurrencyError
	if !errors.As(errs[2], &conflict) || conflict.StreamID != stale || conflict.Actual != 1 || conflict.Expected != 5 {
		t.Errorf("stale append: %v, want a *ConcurrencyError at 1", errs[2])
	}
	var cce *eventstore.ClaimConflictError
	if !errors.As(errs[3], &cce) || cce.Owner != "owner-1" {
		t.Errorf("claiming append: %v, want a *ClaimConflictError held by owner-1", errs[3])
	}
	var ice *eventstore.IdempotencyConflictError
	if !errors.As(errs[4], &ice) || ice.Existing == nil || string(ice.Existing.Response) != `{"id":1}` {
		t.Errorf("twin append: %v, want an *IdempotencyConflictError with the stored record", errs[4])
	}
	if !errors.Is(errs[5], eventstore.ErrDataKeyExists) {
		t.Errorf("data key append: %v, want ErrDataKeyExists", errs[5])
	}

	// One transaction: the events written share it.
	tx := results[0].Events[0].Position.TxID
	for _, i := range []int{0, 1, 6} {
		for _, e := range results[i].Events {
			if e.Position.TxID != tx {
				t.Errorf("append %d committed in transaction %d, not the group's %d", i, e.Position.TxID, tx)
			}
		}
	}
	if r := results[0]; len(r.Events) != 2 || r.Events[0].StreamVersion != 1 || r.Events[1].StreamVersion != 2 ||
		r.Events[1].Type != "Named" || r.Events[0].Position.Global >= r.Events[1].Position.Global {
		t.Errorf("the new stream's events: %+v", r.Events)
	}
	if r := results[6]; len(r.Events) != 2 || r.Events[0].StreamVersion != 4 || r.Events[1].StreamVersion != 5 {
		t.Errorf("the Any append's events: %+v, want versions 4 and 5", r.Events)
	}
	for stream, want := range map[string]int64{fullStream: 2, existing: 2, stale: 1, anyStream: 5, pinned: 1,
		claimed.Streams[0].StreamID: 0, twin.Streams[0].StreamID: 0, keyed.Streams[0].StreamID: 0, pin.Streams[1].StreamID: 0} {
		if v, err := h.StreamVersion(ctx, stream); err != nil || v != want {
			t.Errorf("%s at version %d (%v), want %d", stream, v, err, want)
		}
	}
	if rec, err := h.Idempotency(ctx, "key-new"); err != nil || string(rec.Response) != `{"ok":true}` {
		t.Errorf("the new key's record: %+v, %v", rec, err)
	}
	if owner, err := h.ClaimOwner(ctx, "email", "new"); err != nil || owner != fullStream {
		t.Errorf("the new claim's owner %q, %v", owner, err)
	}
	if owner, _ := h.ClaimOwner(ctx, "email", "taken"); owner != "owner-1" {
		t.Errorf("the taken claim moved to %q", owner)
	}
	if secret, err := h.Credential(ctx, fullStream); err != nil || string(secret) != "hash" {
		t.Errorf("credential %q, %v", secret, err)
	}
	if key, err := h.DataKey(ctx, fullStream); err != nil || string(key) != "key" {
		t.Errorf("data key %q, %v", key, err)
	}
	if key, _ := h.DataKey(ctx, "subject-taken"); string(key) != "k" {
		t.Errorf("the taken data key became %q", key)
	}
	if steps, err := h.TraceSteps(ctx, "trace-full"); err != nil || len(steps) != 1 {
		t.Errorf("trace steps %+v, %v", steps, err)
	}
	pending, err := h.PendingOutbox(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	outboxed := map[int64]bool{}
	for _, o := range pending {
		outboxed[o.Event.Position.Global] = true
	}
	for _, i := range []int{0, 1, 6} {
		for _, e := range results[i].Events {
			if !outboxed[e.Position.Global] {
				t.Errorf("event %d of append %d has no outbox row", e.Position.Global, i)
			}
		}
	}
}

// Appends of a group that touch what an earlier one touches wait for it
// and run alone, in order: the second of two appends at one version loses.
func TestGroupCommitSerialisesWhatClashes(t *testing.T) {
	t.Parallel()
	h := openHeld(t)
	s := eventstore.StreamID("account", uuid.NewString())
	mustAppend(t, h, one(s, eventstore.NoStream))
	a, b := one(s, eventstore.Exact(1)), one(s, eventstore.Exact(1))
	keyA, keyB := one(eventstore.StreamID("x", uuid.NewString()), eventstore.NoStream), one(eventstore.StreamID("x", uuid.NewString()), eventstore.NoStream)
	keyA.Idempotency = &eventstore.IdempotencyRecord{Key: "same", Fingerprint: "a", Status: 201}
	keyB.Idempotency = &eventstore.IdempotencyRecord{Key: "same", Fingerprint: "b", Status: 201}
	_, errs := h.group(t, a, b, keyA, keyB)
	// Taken together, the pairs would break the group on its unique
	// indexes, and it would fall back.
	if n := postgres.Fallbacks(h.Store); n != 0 {
		t.Errorf("%d groups fell back, want none: the clashing appends must wait, not join", n)
	}
	var conflict *eventstore.ConcurrencyError
	if (errs[0] == nil) == (errs[1] == nil) || !errors.As(errors.Join(errs[0], errs[1]), &conflict) || conflict.Actual != 2 {
		t.Errorf("two appends at version 1: %v, %v; want one to win and one to find version 2", errs[0], errs[1])
	}
	var ice *eventstore.IdempotencyConflictError
	if (errs[2] == nil) == (errs[3] == nil) || !errors.As(errors.Join(errs[2], errs[3]), &ice) {
		t.Errorf("two appends with one key: %v, %v; want one to win and one to find it", errs[2], errs[3])
	}
	if v, _ := h.StreamVersion(context.Background(), s); v != 2 {
		t.Errorf("stream at %d, want 2", v)
	}
}

// A group that fails before its commit (here, a stream another process
// creates between the group's read and its write) writes nothing; its
// appends then run alone and get what they would have got alone.
func TestGroupCommitFallsBackAlone(t *testing.T) {
	// Not parallel: the open transaction below holds up other tests' DDL.
	h := openHeld(t)
	ctx := context.Background()
	racing := eventstore.StreamID("account", uuid.NewString())
	conn, err := pgx.Connect(ctx, h.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after the commit, a no-op
	if _, err := tx.Exec(ctx, `INSERT INTO `+pgx.Identifier{h.schema, "streams"}.Sanitize()+` (stream_id, category, version) VALUES ($1, 'account', 1)`, racing); err != nil {
		t.Fatal(err)
	}
	// Commit the other process's stream once the group waits on it.
	go func() {
		deadline := time.Now().Add(20 * time.Second)
		watch, err := pgx.Connect(ctx, h.url)
		if err != nil {
			_ = tx.Commit(ctx)
			return
		}
		defer watch.Close(ctx)
		for time.Now().Before(deadline) {
			var waiting int
			_ = watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'
				AND query LIKE '%INSERT INTO streams (stream_id, category, version)%unnest%'`).Scan(&waiting)
			if waiting > 0 {
				break
			}
			time.Sleep(20 * time.Millisecond) // polling with a deadline
		}
		_ = tx.Commit(ctx)
	}()
	other := eventstore.StreamID("account", uuid.NewString())
	results, errs := h.group(t, one(racing, eventstore.NoStream), one(other, eventstore.NoStream))
	var conflict *eventstore.ConcurrencyError
	if !errors.As(errs[0], &conflict) || conflict.Actual != 1 {
		t.Errorf("the append racing the other process: %v, want a *ConcurrencyError at 1", errs[0])
	}
	if errs[1] != nil || len(results[1].Events) != 1 {
		t.Fatalf("the other append: %+v, %v; want it written alone", results[1], errs[1])
	}
	if v, _ := h.StreamVersion(ctx, other); v != 1 {
		t.Errorf("the other stream at %d, want 1", v)
	}
	if n := postgres.Fallbacks(h.Store); n != 1 {
		t.Errorf("%d groups fell back, want 1", n)
	}
}

// Close lets a group under way commit, and its appends learn that it did.
func TestGroupCommitFinishesOnClose(t *testing.T) {
	t.Parallel()
	h := openHeld(t)
	ctx := context.Background()
	s := func() string { return eventstore.StreamID("account", uuid.NewString()) }
	h.armed.Store(true)
	blocker := make(chan error, 1)
	go func() {
		_, err := h.Append(ctx, one(s(), eventstore.NoStream))
		blocker <- err
	}()
	<-h.entered
	members := make([]error, 3)
	var wg sync.WaitGroup
	for i := range members {
		wg.Go(func() { _, members[i] = h.Append(ctx, one(s(), eventstore.NoStream)) })
	}
	deadline := time.Now().Add(15 * time.Second)
	for postgres.Waiting(h.Store) < int64(len(members)) {
		if time.Now().After(deadline) {
			t.Fatal("the appends never queued")
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
	closed := make(chan error, 1)
	go func() { closed <- h.Close() }()
	close(h.release)
	if err := <-blocker; err != nil {
		t.Fatalf("the append under way at Close: %v", err)
	}
	wg.Wait()
	for i, err := range members {
		// Queued when Close began: committed by the group, or refused as
		// closed, never failed half-way.
		if err != nil && !strings.Contains(err.Error(), "closed") {
			t.Errorf("append %d queued at Close: %v", i, err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, err := h.Append(ctx, one(s(), eventstore.NoStream)); err == nil {
		t.Fatal("an append after Close was taken")
	}
}
