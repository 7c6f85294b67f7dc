package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// A lease whose connection dies is reported lost, and another process can
// take it: this is how a second relay takes over from a crashed one.
func TestLeaseLostWhenItsConnectionDies(t *testing.T) {
	t.Parallel()
	url := testenv.Postgres(t)
	s := storetest.OpenPostgres(t, storetest.Options{})
	lease, ok, err := s.TryLease(context.Background(), "relay")
	if err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	defer lease.Release()
	admin, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	// Kill the backend holding the advisory lock, as a crash would.
	if _, err := admin.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND classid = $1::oid AND granted AND pid <> pg_backend_pid()`, 0x42504c53); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lease.Lost():
	case <-time.After(15 * time.Second):
		t.Fatal("the lease was not reported lost")
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		next, ok, err := s.TryLease(context.Background(), "relay")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			next.Release()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no one could take the lease after its holder died")
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline
	}
}
