package pii

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

func newTestCipher(t testing.TB) (*Cipher, *MemoryKeyring, MasterKey) {
	t.Helper()
	master, ring := mustMaster(t), NewMemoryKeyring()
	c, err := NewCipher(master, ring)
	if err != nil {
		t.Fatal(err)
	}
	return c, ring, master
}

func TestSealOpenRoundTrip(t *testing.T) {
	c, _, _ := newTestCipher(t)
	ctx := context.Background()
	tests := []struct{ name, plain string }{
		{"email", "ann@example.org"},
		{"unicode name", "Zoë Ångström-Nguyễn 王小明 🚓"},
		{"empty", ""},
		{"colons and prefix", "pii:v1:x:y"},
		{"invalid utf8", "\xff\xfe\x00"},
		{"long", strings.Repeat("221B Baker Street, ", 500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := c.Seal(ctx, "account-1", tt.plain)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(token, "pii:v1:account-1:") || !IsSealed(token) {
				t.Fatalf("token %q has the wrong form", token)
			}
			if tt.plain != "" && strings.Contains(token, tt.plain) {
				t.Fatal("token contains the plaintext")
			}
			got, err := c.Open(ctx, token)
			if err != nil || got != tt.plain {
				t.Fatalf("Open = %q, %v; want %q", got, err, tt.plain)
			}
			again, _ := c.Seal(ctx, "account-1", tt.plain)
			if again == token {
				t.Fatal("sealing twice gave the same token; nonces must differ")
			}
		})
	}
}

func TestSubjectsGetDifferentKeys(t *testing.T) {
	c, ring, master := newTestCipher(t)
	ctx := context.Background()
	for _, s := range []string{"account-a", "account-b"} {
		if _, err := c.Seal(ctx, s, "x"); err != nil {
			t.Fatal(err)
		}
	}
	keyOf := func(s string) DataKey {
		w, err := ring.Get(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		dk, err := Unwrap(master, s, w)
		if err != nil {
			t.Fatal(err)
		}
		return dk
	}
	if keyOf("account-a") == keyOf("account-b") {
		t.Fatal("two subjects share a data key")
	}
	if ring.Len() != 2 {
		t.Fatalf("keyring holds %d keys, want 2", ring.Len())
	}
}

func TestRelabelledTokenFails(t *testing.T) {
	c, _, _ := newTestCipher(t)
	ctx := context.Background()
	tokenA, _ := c.Seal(ctx, "account-a", "secret")
	if _, err := c.Seal(ctx, "account-b", "other"); err != nil {
		t.Fatal(err)
	}
	relabel := func(to string) string { return strings.Replace(tokenA, ":account-a:", ":"+to+":", 1) }

	_, err := c.Open(ctx, relabel("account-b"))
	var te *TokenError
	if !errors.Is(err, ErrTampered) || !errors.As(err, &te) || te.Subject != "account-b" {
		t.Fatalf("relabelled to a known subject: err = %v, want a TokenError with ErrTampered", err)
	}
	if _, err := c.Open(ctx, relabel("account-z")); !errors.Is(err, ErrNoKey) {
		t.Fatalf("relabelled to an unknown subject: err = %v, want ErrNoKey", err)
	}
}

func TestErase(t *testing.T) {
	c, ring, _ := newTestCipher(t)
	ctx := context.Background()
	tokenA, _ := c.Seal(ctx, "account-a", "ann@example.org")
	tokenB, _ := c.Seal(ctx, "account-b", "bob@example.org")

	if err := c.Erase(ctx, "account-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open(ctx, tokenA); !errors.Is(err, ErrErased) {
		t.Fatalf("Open after erase: err = %v, want ErrErased", err)
	}
	if got, err := c.Open(ctx, tokenB); err != nil || got != "bob@example.org" {
		t.Fatalf("other subject: Open = %q, %v", got, err)
	}
	if _, err := c.Seal(ctx, "account-a", "new"); !errors.Is(err, ErrErased) {
		t.Fatalf("Seal after erase: err = %v, want ErrErased", err)
	}
	if err := c.Erase(ctx, "account-a"); err != nil {
		t.Fatalf("second erase: %v", err)
	}
	if ring.Len() != 1 {
		t.Fatalf("keyring holds %d live keys, want 1", ring.Len())
	}
}

func TestOpenRejectsBadTokens(t *testing.T) {
	c, _, _ := newTestCipher(t)
	ctx := context.Background()
	token, _ := c.Seal(ctx, "account-a", "ann@example.org")
	cut := strings.LastIndexByte(token, ':') + 1
	payload := token[cut:]
	flip := func(i int) string {
		b := []byte(payload)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return token[:cut] + string(b)
	}
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"nonce altered", flip(0), ErrTampered},
		{"ciphertext altered", flip(len(payload) / 2), ErrTampered},
		{"tag altered", flip(len(payload) - 2), ErrTampered},
		{"last byte dropped", token[:cut] + b64.EncodeToString(mustDecode(t, payload)[:len(payload)*3/4-1]), ErrTampered},
		{"plaintext", "ann@example.org", ErrMalformedToken},
		{"empty", "", ErrMalformedToken},
		{"other version", strings.Replace(token, "pii:v1:", "pii:v2:", 1), ErrMalformedToken},
		{"no subject", "pii:v1:" + payload, ErrMalformedToken},
		{"empty subject", "pii:v1::" + payload, ErrMalformedToken},
		{"not base64url", token[:cut] + "@@@@" + payload, ErrMalformedToken},
		{"padding", token + "==", ErrMalformedToken},
		{"too short", token[:cut] + "AAAA", ErrMalformedToken},
		{"extra colon", token + ":x", ErrMalformedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Open(ctx, tt.token)
			var te *TokenError
			if !errors.Is(err, tt.want) || !errors.As(err, &te) {
				t.Fatalf("err = %v, want a TokenError matching %v", err, tt.want)
			}
			if IsSealed(tt.token) != (tt.want == ErrTampered) {
				t.Fatalf("IsSealed = %v", !(tt.want == ErrTampered))
			}
		})
	}
}

func TestSealRejectsInvalidSubject(t *testing.T) {
	c, ring, _ := newTestCipher(t)
	for _, s := range []string{"", "a:b", "a b", "tab\t", "é", strings.Repeat("x", MaxSubjectLen+1)} {
		if _, err := c.Seal(context.Background(), s, "x"); !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("subject %q: err = %v, want ErrInvalidSubject", s, err)
		}
		if err := c.Erase(context.Background(), s); !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("erase subject %q: err = %v, want ErrInvalidSubject", s, err)
		}
	}
	if ring.Len() != 0 {
		t.Fatal("a rejected subject got a key")
	}
}

func TestConcurrentFirstSeal(t *testing.T) {
	c, ring, _ := newTestCipher(t)
	ctx := context.Background()
	const n = 50
	tokens := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			tok, err := c.Seal(ctx, "account-race", "value")
			if err != nil {
				t.Error(err)
			}
			tokens[i] = tok
		})
	}
	close(start)
	wg.Wait()
	if ring.Len() != 1 {
		t.Fatalf("keyring holds %d keys, want exactly 1", ring.Len())
	}
	for i, tok := range tokens {
		if got, err := c.Open(ctx, tok); err != nil || got != "value" {
			t.Fatalf("token %d: Open = %q, %v", i, got, err)
		}
	}
}

func TestNewCipherNeedsKeyring(t *testing.T) {
	if _, err := NewCipher(MasterKey{}, nil); err == nil {
		t.Fatal("NewCipher accepted a nil Keyring")
	}
}

func TestCanceledContext(t *testing.T) {
	c, _, _ := newTestCipher(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Seal(ctx, "account-a", "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
