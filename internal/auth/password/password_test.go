package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fast keeps tests quick; the encoding carries the parameters anyway.
var fast = Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashAndVerify(t *testing.T) {
	h := NewHasher(fast, 2)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected encoding %q", enc)
	}
	if err := h.Verify(ctx, enc, "correct horse battery"); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if err := h.Verify(ctx, enc, "correct horse batterY"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: want ErrMismatch, got %v", err)
	}
	again, _ := h.Hash(ctx, "correct horse battery")
	if again == enc {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	// A hasher with other defaults still verifies: parameters travel with the hash.
	if err := NewHasher(DefaultParams, 1).Verify(ctx, enc, "correct horse battery"); err != nil {
		t.Fatalf("verify with other defaults: %v", err)
	}
}

func TestPolicy(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"short", false},
		{"1234567", false},
		{"12345678", true},
		{"pässwörd", true},
		{"        ", false},
		{strings.Repeat("x", MaxLength), true},
		{strings.Repeat("x", MaxLength+1), false},
		{"bad\xffutf8!", false},
	} {
		err := CheckPolicy(tc.pw)
		var pe *PolicyError
		if tc.ok != (err == nil) || (err != nil && !errors.As(err, &pe)) {
			t.Errorf("CheckPolicy(%q) = %v, want ok=%v", tc.pw, err, tc.ok)
		}
	}
}

func TestVerifyRejectsMalformedHashes(t *testing.T) {
	h := NewHasher(fast, 1)
	for _, enc := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$",
	} {
		if err := h.Verify(context.Background(), enc, "whatever1"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a format error", enc, err)
		}
	}
}

// With every slot taken, Hash waits rather than run another hash at once.
func TestConcurrencyCap(t *testing.T) {
	h := NewHasher(fast, 2)
	h.slots <- struct{}{}
	h.slots <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "long enough"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hashed while every slot was taken (err %v)", err)
	}
	<-h.slots
	if _, err := h.Hash(context.Background(), "long enough"); err != nil {
		t.Fatalf("a free slot did not let the hash run: %v", err)
	}
}

// By default half the CPUs hash at once, and always at least one.
func TestDefaultConcurrency(t *testing.T) {
	for cpus, want := range map[int]int{1: 1, 2: 1, 3: 1, 4: 2, 8: 4, 64: 32} {
		if got := defaultConcurrency(cpus); got != want {
			t.Errorf("%d CPUs: %d slots, want %d", cpus, got, want)
		}
	}
	if got, want := cap(NewHasher(fast, 0).slots), defaultConcurrency(runtime.GOMAXPROCS(0)); got != want {
		t.Errorf("NewHasher(p, 0): %d slots, want %d", got, want)
	}
}

func BenchmarkHashDefault(b *testing.B) {
	h := NewHasher(DefaultParams, 1)
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}
