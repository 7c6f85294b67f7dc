package pii

import (
	"context"
	"errors"
	"testing"
)

// brokenKeyring fails every call, as a database that is down would.
type brokenKeyring struct{ err error }

func (b brokenKeyring) Get(context.Context, string) ([]byte, error)         { return nil, b.err }
func (b brokenKeyring) Put(context.Context, string, []byte) ([]byte, error) { return nil, b.err }
func (b brokenKeyring) Delete(context.Context, string) error                { return b.err }

func TestKeyringFailuresAreReported(t *testing.T) {
	down := errors.New("database down")
	good, _, _ := newTestCipher(t)
	ctx := context.Background()
	token, _ := good.Seal(ctx, "account-a", "x")

	c, err := NewCipher(mustMaster(t), brokenKeyring{down})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Seal(ctx, "account-a", "x"); !errors.Is(err, down) {
		t.Errorf("Seal: err = %v", err)
	}
	if _, err := c.Open(ctx, token); !errors.Is(err, down) || errors.Is(err, ErrErased) {
		t.Errorf("Open: err = %v", err)
	}
	if err := c.Erase(ctx, "account-a"); !errors.Is(err, down) {
		t.Errorf("Erase: err = %v", err)
	}
	// A keyring that has no key yet but cannot store one.
	c, _ = NewCipher(mustMaster(t), putFails{NewMemoryKeyring(), down})
	if _, err := c.Seal(ctx, "account-a", "x"); !errors.Is(err, down) {
		t.Errorf("Seal with failing Put: err = %v", err)
	}
}

type putFails struct {
	*MemoryKeyring
	err error
}

func (p putFails) Put(context.Context, string, []byte) ([]byte, error) { return nil, p.err }

func TestOpenWithOtherMasterKey(t *testing.T) {
	ring := NewMemoryKeyring()
	c1, _ := NewCipher(mustMaster(t), ring)
	c2, _ := NewCipher(mustMaster(t), ring)
	token, err := c1.Seal(context.Background(), "account-a", "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Open(context.Background(), token); !errors.Is(err, ErrWrappedKey) {
		t.Fatalf("err = %v, want ErrWrappedKey", err)
	}
}

func TestTokenSubject(t *testing.T) {
	c, _, _ := newTestCipher(t)
	token, _ := c.Seal(context.Background(), "account-a", "x")
	if s, err := TokenSubject(token); err != nil || s != "account-a" {
		t.Fatalf("TokenSubject = %q, %v", s, err)
	}
	if _, err := TokenSubject("nope"); !errors.Is(err, ErrMalformedToken) {
		t.Fatalf("err = %v, want ErrMalformedToken", err)
	}
}
