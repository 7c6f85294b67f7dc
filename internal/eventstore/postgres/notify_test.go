package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// twoProcesses opens two stores on one fresh schema, as two processes of
// one deployment would.
func twoProcesses(t *testing.T) (*postgres.Store, *postgres.Store) {
	url := testenv.Postgres(t)
	schema := storetest.NewSchema(t, url)
	open := func() *postgres.Store {
		s, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return open(), open()
}

// Two processes on one database: a commit through one wakes the other's
// subscribers through LISTEN/NOTIFY.
func TestCommitWakesOtherProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	writer, other := twoProcesses(t)
	sig, cancel := other.Subscribe()
	defer cancel()
	// The listener connects in the background: append until the other store
	// hears one, with a deadline.
	deadline := time.After(15 * time.Second)
	for i := 0; ; i++ {
		if _, err := writer.Append(ctx, &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
			{StreamID: eventstore.StreamID("account", uuid.NewString()), Expected: eventstore.NoStream,
				Events: []eventstore.EventData{{Type: "Opened", Data: []byte(`{}`)}}}}}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sig:
			return
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no wake-up reached the other store after %d commits", i+1)
		}
	}
}

// A store's own commit wakes its subscribers once, directly: the NOTIFY it
// sends for other processes comes back to its own listener, which must not
// wake them a second time.
func TestOwnCommitWakesOnce(t *testing.T) {
	t.Parallel()
	s, other := twoProcesses(t)
	sig, cancel := s.Subscribe()
	defer cancel()
	// Once a commit of the other store wakes s, s is listening.
	deadline := time.After(15 * time.Second)
listening:
	for {
		appendNew(t, other)
		select {
		case <-sig:
			break listening
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("the store never heard the other one")
		}
	}
	// Let what the other store's commits still send arrive.
	for quiet := false; !quiet; {
		select {
		case <-sig:
		case <-time.After(300 * time.Millisecond):
			quiet = true
		case <-deadline:
			t.Fatal("the wake-ups never stopped")
		}
	}
	appendNew(t, s)
	select {
	case <-sig:
	default:
		t.Fatal("the commit did not wake the store's own subscriber")
	}
	select {
	case <-sig:
		t.Fatal("the store's own NOTIFY woke its subscriber a second time")
	case <-time.After(500 * time.Millisecond):
	}
}

// A store counts the commits of other processes it hears of, and not its
// own: the count is what lets a cache of states skip its reads.
func TestOtherWritesCountsOtherProcesses(t *testing.T) {
	t.Parallel()
	s, other := twoProcesses(t)
	deadline := time.Now().Add(15 * time.Second)
	var before uint64
	for watching := false; !watching; {
		if time.Now().After(deadline) {
			t.Fatal("the store never started listening")
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
		before, watching = s.OtherWrites()
	}
	appendNew(t, s)
	time.Sleep(300 * time.Millisecond) // time for its own NOTIFY to come back
	if n, _ := s.OtherWrites(); n != before {
		t.Fatalf("the store's own commit moved its count of other writes from %d to %d", before, n)
	}
	appendNew(t, other)
	for n, _ := s.OtherWrites(); n == before; n, _ = s.OtherWrites() {
		if time.Now().After(deadline) {
			t.Fatal("the other process's commit never moved the count")
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}

// appendNew opens a new stream in s.
func appendNew(t *testing.T, s *postgres.Store) {
	t.Helper()
	mustAppend(t, s, one(eventstore.StreamID("account", uuid.NewString()), eventstore.NoStream))
}
