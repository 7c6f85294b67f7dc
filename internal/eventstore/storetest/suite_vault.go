package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

func openAccount(stream string, claims ...eventstore.Claim) *eventstore.AppendParams {
	return &eventstore.AppendParams{
		Streams: []eventstore.StreamAppend{{StreamID: stream, Expected: eventstore.NoStream, Events: []eventstore.EventData{ev("Opened", 1)}}},
		Claims:  claims,
	}
}

func testClaims(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	a, b := newStream("account"), newStream("account")
	mustAppend(t, s, openAccount(a, eventstore.Claim{Scope: "email", Value: "idx-1", Owner: a}))
	if owner, err := s.ClaimOwner(ctxT(t), "email", "idx-1"); err != nil || owner != a {
		t.Fatalf("claim owner = %q, %v; want %s", owner, err, a)
	}
	if _, err := s.ClaimOwner(ctxT(t), "email", "idx-none"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("unclaimed value: want ErrNotFound, got %v", err)
	}
	// Another owner is refused, and nothing of its append is written.
	_, err := s.Append(ctxT(t), openAccount(b, eventstore.Claim{Scope: "email", Value: "idx-1", Owner: b}))
	var cce *eventstore.ClaimConflictError
	if !errors.As(err, &cce) || cce.Owner != a || cce.Scope != "email" {
		t.Fatalf("want ClaimConflictError held by %s, got %v", a, err)
	}
	if n := len(readStream(t, s, b)); n != 0 {
		t.Fatalf("a refused claim still appended %d events", n)
	}
	// The same value in another scope is free; the same owner may claim again.
	mustAppend(t, s, openAccount(b, eventstore.Claim{Scope: "encounter", Value: "idx-1", Owner: b}))
	appendOne(t, s, a, eventstore.Exact(1)) // version check only
	mustAppend(t, s, &eventstore.AppendParams{
		Streams: []eventstore.StreamAppend{{StreamID: a, Expected: eventstore.Exact(1), Events: []eventstore.EventData{ev("Same", 2)}}},
		Claims:  []eventstore.Claim{{Scope: "email", Value: "idx-1", Owner: a}},
	})
	// Moving a claim: release the old value and claim a new one in one append.
	mustAppend(t, s, &eventstore.AppendParams{
		Streams:  []eventstore.StreamAppend{{StreamID: a, Expected: eventstore.Exact(2), Events: []eventstore.EventData{ev("EmailChanged", 3)}}},
		Releases: []eventstore.Claim{{Scope: "email", Value: "idx-1", Owner: a}},
		Claims:   []eventstore.Claim{{Scope: "email", Value: "idx-2", Owner: a}},
	})
	if _, err := s.ClaimOwner(ctxT(t), "email", "idx-1"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("released value still claimed: %v", err)
	}
	// A release by someone who does not hold the claim does nothing.
	mustAppend(t, s, &eventstore.AppendParams{
		Streams:  []eventstore.StreamAppend{{StreamID: b, Expected: eventstore.Exact(1), Events: []eventstore.EventData{ev("X", 1)}}},
		Releases: []eventstore.Claim{{Scope: "email", Value: "idx-2", Owner: b}},
	})
	if owner, _ := s.ClaimOwner(ctxT(t), "email", "idx-2"); owner != a {
		t.Fatalf("a stranger's release took the claim from %s (owner now %q)", a, owner)
	}
	_, err = s.Append(ctxT(t), openAccount(newStream("account"), eventstore.Claim{Scope: "", Value: "v", Owner: "o"}))
	wantValidation(t, err, "claims[0].scope")
}

// A stream at another version than expected is what an append reports,
// even when its claims, data keys and idempotency key would be refused
// too: a refusal for any of those means every version held, which the
// command pipeline relies on to answer without reading its states again.
func testVersionsCheckedFirst(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	a, b := newStream("account"), newStream("account")
	first := openAccount(a, eventstore.Claim{Scope: "email", Value: "idx-first", Owner: a})
	first.Idempotency = &eventstore.IdempotencyRecord{Key: "key-first", Fingerprint: "f", Status: 201}
	first.DataKeys = []eventstore.DataKey{{Subject: a, Wrapped: []byte("wrapped")}}
	mustAppend(t, s, first)
	mustAppend(t, s, openAccount(b))
	// b exists, so NoStream is stale; and the claim, the key and the data key are all taken.
	_, err := s.Append(ctxT(t), &eventstore.AppendParams{
		Streams:     []eventstore.StreamAppend{{StreamID: b, Expected: eventstore.NoStream, Events: []eventstore.EventData{ev("Opened", 2)}}},
		Claims:      []eventstore.Claim{{Scope: "email", Value: "idx-first", Owner: b}},
		DataKeys:    []eventstore.DataKey{{Subject: a, Wrapped: []byte("other")}},
		Idempotency: &eventstore.IdempotencyRecord{Key: "key-first", Fingerprint: "g", Status: 201},
	})
	var conflict *eventstore.ConcurrencyError
	if !errors.As(err, &conflict) || conflict.StreamID != b || conflict.Actual != 1 {
		t.Fatalf("err = %v, want a *ConcurrencyError on %s at version 1", err, b)
	}
	// With the version right, the claim is what is refused next.
	_, err = s.Append(ctxT(t), &eventstore.AppendParams{
		Streams:     []eventstore.StreamAppend{{StreamID: b, Expected: eventstore.Exact(1), Events: []eventstore.EventData{ev("Claimed", 2)}}},
		Claims:      []eventstore.Claim{{Scope: "email", Value: "idx-first", Owner: b}},
		Idempotency: &eventstore.IdempotencyRecord{Key: "key-first", Fingerprint: "g", Status: 201},
	})
	var cce *eventstore.ClaimConflictError
	if !errors.As(err, &cce) || cce.Owner != a {
		t.Fatalf("err = %v, want a *ClaimConflictError held by %s", err, a)
	}
}

// Many sign-ups race for one email: exactly one wins.
func testConcurrentClaims(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	const racers = 20
	var (
		wg              sync.WaitGroup
		mu              sync.Mutex
		wins, conflicts int
		start           = make(chan struct{})
	)
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := newStream("account")
			<-start
			_, err := s.Append(ctxT(t), openAccount(stream, eventstore.Claim{Scope: "email", Value: "same", Owner: stream}))
			var cce *eventstore.ClaimConflictError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.As(err, &cce):
				conflicts++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins != 1 || conflicts != racers-1 {
		t.Fatalf("%d wins and %d conflicts, want 1 and %d", wins, conflicts, racers-1)
	}
	if all := readAll(t, s, eventstore.ReadAllParams{}); len(all) != 1 {
		t.Fatalf("%d accounts opened with one email, want 1", len(all))
	}
}

func testCredentials(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	a := newStream("account")
	p := openAccount(a)
	p.Credentials = []eventstore.Credential{{Subject: a, Secret: []byte("hash-1")}}
	mustAppend(t, s, p)
	if got, err := s.Credential(ctxT(t), a); err != nil || string(got) != "hash-1" {
		t.Fatalf("credential = %q, %v", got, err)
	}
	mustAppend(t, s, &eventstore.AppendParams{
		Streams:     []eventstore.StreamAppend{{StreamID: a, Expected: eventstore.Exact(1), Events: []eventstore.EventData{ev("PasswordChanged", 2)}}},
		Credentials: []eventstore.Credential{{Subject: a, Secret: []byte("hash-2")}},
	})
	if got, _ := s.Credential(ctxT(t), a); string(got) != "hash-2" {
		t.Fatalf("credential not replaced: %q", got)
	}
	if _, err := s.Credential(ctxT(t), "nobody"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("unknown subject: want ErrNotFound, got %v", err)
	}
	// A failed append stores no credential.
	b := newStream("account")
	appendOne(t, s, b, eventstore.NoStream, ev("Opened", 1))
	_, err := s.Append(ctxT(t), &eventstore.AppendParams{
		Streams:     []eventstore.StreamAppend{{StreamID: b, Expected: eventstore.NoStream, Events: []eventstore.EventData{ev("Opened", 1)}}},
		Credentials: []eventstore.Credential{{Subject: b, Secret: []byte("x")}},
	})
	wantConcurrency(t, err, b, 1)
	if _, err := s.Credential(ctxT(t), b); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("a failed append stored a credential: %v", err)
	}
	_, err = s.Append(ctxT(t), &eventstore.AppendParams{
		Streams:     []eventstore.StreamAppend{{StreamID: newStream("account"), Events: []eventstore.EventData{ev("Opened", 1)}}},
		Credentials: []eventstore.Credential{{Subject: "s"}},
	})
	wantValidation(t, err, "credentials[0].secret")
}

func testDataKeys(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	if _, err := s.DataKey(ctxT(t), "acct-1"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("missing key: want ErrNotFound, got %v", err)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		stored = map[string]bool{}
	)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got, err := s.PutDataKey(ctxT(t), "acct-1", []byte{byte(i + 1), 42})
			if err != nil {
				t.Errorf("put data key: %v", err)
				return
			}
			mu.Lock()
			stored[string(got)] = true
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if len(stored) != 1 {
		t.Fatalf("concurrent first puts disagree: %d different keys returned", len(stored))
	}
	got, err := s.DataKey(ctxT(t), "acct-1")
	if err != nil || !stored[string(got)] {
		t.Fatalf("stored key %x, %v", got, err)
	}
	again, _ := s.PutDataKey(ctxT(t), "acct-1", []byte("other"))
	if !bytes.Equal(again, got) {
		t.Fatalf("a second put replaced the key")
	}
	if err := s.DeleteDataKey(ctxT(t), "acct-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DataKey(ctxT(t), "acct-1"); !errors.Is(err, eventstore.ErrErased) {
		t.Fatalf("deleted key: want ErrErased, got %v", err)
	}
	// Erasure is permanent: no new key, and deleting again is fine.
	if _, err := s.PutDataKey(ctxT(t), "acct-1", []byte("fresh")); !errors.Is(err, eventstore.ErrErased) {
		t.Fatalf("put after erasure: want ErrErased, got %v", err)
	}
	if err := s.DeleteDataKey(ctxT(t), "acct-1"); err != nil {
		t.Fatalf("deleting an erased key: %v", err)
	}
	// Erasing a subject that never had a key still leaves a tombstone.
	if err := s.DeleteDataKey(ctxT(t), "acct-never"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutDataKey(ctxT(t), "acct-never", []byte("k")); !errors.Is(err, eventstore.ErrErased) {
		t.Fatalf("put after erasing a keyless subject: want ErrErased, got %v", err)
	}
}

// A data key written with an append exists exactly when the append's events
// do; a subject that has a key, or a tombstone, refuses the whole append.
func testDataKeysWithAppend(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	withKey := func(stream, subject string, wrapped []byte) *eventstore.AppendParams {
		p := openAccount(stream)
		p.DataKeys = []eventstore.DataKey{{Subject: subject, Wrapped: wrapped}}
		return p
	}
	a := newStream("account")
	mustAppend(t, s, withKey(a, "subj-a", []byte("key-a")))
	if got, err := s.DataKey(ctxT(t), "subj-a"); err != nil || !bytes.Equal(got, []byte("key-a")) {
		t.Fatalf("key stored with the append: %q, %v", got, err)
	}
	refused := func(p *eventstore.AppendParams, subject string) {
		t.Helper()
		if _, err := s.Append(ctxT(t), p); !errors.Is(err, eventstore.ErrDataKeyExists) {
			t.Fatalf("append with the key of %s: want ErrDataKeyExists, got %v", subject, err)
		}
		if v, err := s.StreamVersion(ctxT(t), p.Streams[0].StreamID); err != nil || v != 0 {
			t.Fatalf("a refused append wrote its stream: version %d, %v", v, err)
		}
	}
	refused(withKey(newStream("account"), "subj-a", []byte("other")), "subj-a")
	if got, _ := s.DataKey(ctxT(t), "subj-a"); !bytes.Equal(got, []byte("key-a")) {
		t.Fatalf("a refused append replaced the key: %q", got)
	}
	// A key put outside an append counts the same, and so does an erasure.
	if _, err := s.PutDataKey(ctxT(t), "subj-b", []byte("key-b")); err != nil {
		t.Fatal(err)
	}
	refused(withKey(newStream("account"), "subj-b", []byte("other")), "subj-b")
	if err := s.DeleteDataKey(ctxT(t), "subj-c"); err != nil {
		t.Fatal(err)
	}
	refused(withKey(newStream("account"), "subj-c", []byte("fresh")), "subj-c")
	// A failed version check writes no key either.
	p := withKey(a, "subj-d", []byte("key-d"))
	if _, err := s.Append(ctxT(t), p); err == nil {
		t.Fatal("a second NoStream append of one stream succeeded")
	}
	if _, err := s.DataKey(ctxT(t), "subj-d"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("a refused append stored its key: %v", err)
	}
	_, err := s.Append(ctxT(t), withKey(newStream("account"), "", []byte("k")))
	wantValidation(t, err, "data_keys[0].subject")
}
