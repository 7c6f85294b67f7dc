// Package keyringtest holds the one test suite every [pii.Keyring] must
// pass, so the in-memory keyring used in tests and the SQL keyring used in
// production cannot drift apart in the promises crypto-shredding rests on.
package keyringtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/bluepoint/bluepoint/internal/pii"
)

// Exercise runs the suite. newKeyring must return an empty keyring each time
// it is called.
func Exercise(t *testing.T, newKeyring func(t *testing.T) pii.Keyring) {
	ctx := context.Background()

	t.Run("get without key", func(t *testing.T) {
		if _, err := newKeyring(t).Get(ctx, "s1"); !errors.Is(err, pii.ErrNoKey) {
			t.Fatalf("err = %v, want ErrNoKey", err)
		}
	})

	t.Run("put then get", func(t *testing.T) {
		k := newKeyring(t)
		stored, err := k.Put(ctx, "s1", []byte("wrapped-1"))
		if err != nil || string(stored) != "wrapped-1" {
			t.Fatalf("Put = %q, %v", stored, err)
		}
		stored[0] = 'X' // the caller's copy must not alias the stored key
		got, err := k.Get(ctx, "s1")
		if err != nil || string(got) != "wrapped-1" {
			t.Fatalf("Get = %q, %v", got, err)
		}
	})

	t.Run("put keeps the first key", func(t *testing.T) {
		k := newKeyring(t)
		if _, err := k.Put(ctx, "s1", []byte("first")); err != nil {
			t.Fatal(err)
		}
		stored, err := k.Put(ctx, "s1", []byte("second"))
		if err != nil || string(stored) != "first" {
			t.Fatalf("second Put = %q, %v; want the first key back", stored, err)
		}
		if _, err := k.Put(ctx, "s2", []byte("other")); err != nil {
			t.Fatal(err)
		}
		if got, _ := k.Get(ctx, "s1"); string(got) != "first" {
			t.Fatalf("Get = %q after second Put", got)
		}
	})

	t.Run("delete leaves a tombstone", func(t *testing.T) {
		k := newKeyring(t)
		if _, err := k.Put(ctx, "s1", []byte("w")); err != nil {
			t.Fatal(err)
		}
		if _, err := k.Put(ctx, "s2", []byte("w2")); err != nil {
			t.Fatal(err)
		}
		for range 2 { // idempotent
			if err := k.Delete(ctx, "s1"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := k.Get(ctx, "s1"); !errors.Is(err, pii.ErrErased) {
			t.Fatalf("Get after Delete: err = %v, want ErrErased", err)
		}
		if _, err := k.Put(ctx, "s1", []byte("new")); !errors.Is(err, pii.ErrErased) {
			t.Fatalf("Put after Delete: err = %v, want ErrErased", err)
		}
		if got, err := k.Get(ctx, "s2"); err != nil || string(got) != "w2" {
			t.Fatalf("other subject: Get = %q, %v", got, err)
		}
		if err := k.Delete(ctx, "never"); err != nil {
			t.Fatal(err)
		}
		if _, err := k.Put(ctx, "never", []byte("w")); !errors.Is(err, pii.ErrErased) {
			t.Fatalf("Put after Delete of an unknown subject: err = %v, want ErrErased", err)
		}
	})

	t.Run("racing puts agree", func(t *testing.T) {
		k := newKeyring(t)
		const n = 50
		got := make([][]byte, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				stored, err := k.Put(ctx, "s1", fmt.Appendf(nil, "key-%d", i))
				if err != nil {
					t.Error(err)
				}
				got[i] = stored
			})
		}
		wg.Wait()
		for i := range got {
			if !bytes.Equal(got[i], got[0]) {
				t.Fatalf("Put %d returned %q, Put 0 returned %q", i, got[i], got[0])
			}
		}
	})
}
