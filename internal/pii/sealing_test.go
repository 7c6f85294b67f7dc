package pii

import (
	"context"
	"errors"
	"testing"
)

// countingKeyring counts the keyring's reads.
type countingKeyring struct {
	*MemoryKeyring
	gets int
}

func (k *countingKeyring) Get(ctx context.Context, subjectID string) ([]byte, error) {
	k.gets++
	return k.MemoryKeyring.Get(ctx, subjectID)
}

// countedCipher is a test cipher whose keyring reads are counted.
func countedCipher(t *testing.T) (*Cipher, *MemoryKeyring, *countingKeyring) {
	t.Helper()
	c, ring, _ := newTestCipher(t)
	counted := &countingKeyring{MemoryKeyring: ring}
	c.keys = counted
	return c, ring, counted
}

func TestSealingMakesNewKeysWithoutStoringThem(t *testing.T) {
	ctx := context.Background()
	c, ring, counted := countedCipher(t)

	s := c.Sealing()
	a, err := s.Seal(ctx, "acct-new", "Ada")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Seal(ctx, "acct-new", "ada@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if counted.gets != 1 {
		t.Fatalf("%d keyring reads for one subject in one sealing", counted.gets)
	}
	keys := s.NewKeys()
	if len(keys) != 1 || keys[0].Subject != "acct-new" {
		t.Fatalf("new keys %+v, want one for acct-new", keys)
	}
	if _, err := ring.Get(ctx, "acct-new"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("the sealing stored its key itself: %v", err)
	}
	// Stored with the events, the key opens what was sealed with it.
	if _, err := ring.Put(ctx, "acct-new", keys[0].Wrapped); err != nil {
		t.Fatal(err)
	}
	for token, want := range map[string]string{a: "Ada", b: "ada@example.org"} {
		if got, err := c.Open(ctx, token); err != nil || got != want {
			t.Fatalf("open %q: %q, %v", want, got, err)
		}
	}
}

func TestSealingUsesStoredKeys(t *testing.T) {
	ctx := context.Background()
	c, _, _ := newTestCipher(t)
	if _, err := c.Seal(ctx, "acct-old", "first"); err != nil {
		t.Fatal(err)
	}
	s := c.Sealing()
	token, err := s.Seal(ctx, "acct-old", "second")
	if err != nil {
		t.Fatal(err)
	}
	if keys := s.NewKeys(); len(keys) != 0 {
		t.Fatalf("a subject with a key got a new one: %+v", keys)
	}
	if got, err := c.Open(ctx, token); err != nil || got != "second" {
		t.Fatalf("open: %q, %v", got, err)
	}
	if err := c.Erase(ctx, "acct-old"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sealing().Seal(ctx, "acct-old", "third"); !errors.Is(err, ErrErased) {
		t.Fatalf("sealing for an erased subject: want ErrErased, got %v", err)
	}
}

// A subject the operation made up is given a new key without asking the
// keyring; others are still looked up.
func TestSealingFreshSubjectsSkipTheKeyring(t *testing.T) {
	ctx := context.Background()
	c, ring, counted := countedCipher(t)
	s := c.Sealing()
	s.Fresh("acct-fresh")
	token, err := s.Seal(ctx, "acct-fresh", "Ada")
	if err != nil {
		t.Fatal(err)
	}
	if counted.gets != 0 {
		t.Fatalf("%d keyring reads for a fresh subject, want none", counted.gets)
	}
	if _, err := s.Seal(ctx, "acct-other", "Grace"); err != nil || counted.gets != 1 {
		t.Fatalf("another subject: %v after %d reads, want one read", err, counted.gets)
	}
	keys := s.NewKeys()
	if len(keys) != 2 || keys[0].Subject != "acct-fresh" {
		t.Fatalf("new keys %+v, want the fresh subject's first", keys)
	}
	if _, err := ring.Put(ctx, "acct-fresh", keys[0].Wrapped); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Open(ctx, token); err != nil || got != "Ada" {
		t.Fatalf("open: %q, %v", got, err)
	}
}
