package token_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/bluepoint/bluepoint/internal/auth/token"
)

type jwks struct {
	Keys []struct {
		Kty, Crv, X, Kid, Use, Alg string
	}
}

func parseJWKS(t *testing.T, m *token.Manager) jwks {
	t.Helper()
	var set jwks
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1", len(set.Keys))
	}
	return set
}

func kidOf(t *testing.T, m *token.Manager) string { return parseJWKS(t, m).Keys[0].Kid }

// TestJWKSVerifiesTokens checks the published key the way a third party
// would: by its fields alone, then by checking a token's signature with it.
func TestJWKSVerifiesTokens(t *testing.T) {
	m, _ := newManager(t, stores[0], newClock())
	k := parseJWKS(t, m).Keys[0]
	if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Use != "sig" || k.Alg != "EdDSA" || k.Kid == "" {
		t.Errorf("JWKS key = %+v", k)
	}
	x, err := base64.RawURLEncoding.DecodeString(k.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		t.Fatalf("x = %q: %d bytes, %v", k.X, len(x), err)
	}
	p, err := m.Issue(context.Background(), "acc-1", "family")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(p.AccessToken, ".")
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h struct{ Alg, Kid, Typ string }
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatal(err)
	}
	if h.Alg != "EdDSA" || h.Kid != k.Kid || h.Typ != "at+jwt" {
		t.Errorf("header = %s, want alg EdDSA, kid %s, typ at+jwt", header, k.Kid)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if !ed25519.Verify(x, []byte(parts[0]+"."+parts[1]), sig) {
		t.Error("the JWKS key does not verify an issued token")
	}
}

func TestKeyPersists(t *testing.T) {
	s := stores[0]
	cfg := token.Config{Dir: filepath.Join(t.TempDir(), "secrets"), DB: s.open(t)}
	first, created, err := token.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("first New did not report creating the key")
	}
	info, err := os.Stat(filepath.Join(cfg.Dir, token.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(cfg.Dir)
	if len(entries) != 1 {
		t.Errorf("secrets directory holds %d entries, want the key alone", len(entries))
	}

	second, created, err := token.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("second New reported creating the key")
	}
	if !bytes.Equal(first.JWKS(), second.JWKS()) {
		t.Errorf("JWKS changed across New:\n%s\n%s", first.JWKS(), second.JWKS())
	}
	p, err := first.Issue(context.Background(), "acc-1", "staff")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.Verify(p.AccessToken); err != nil {
		t.Errorf("a token of the first Manager fails on the second: %v", err)
	}
}

// TestKeyCreatedOnce starts several Managers at once on an empty secrets
// directory, as replicas of a deployment might: exactly one creates the key
// and all use it.
func TestKeyCreatedOnce(t *testing.T) {
	db := stores[0].open(t)
	dir := t.TempDir()
	const n = 8
	var wg sync.WaitGroup
	results := make([]struct {
		jwks    []byte
		created bool
		err     error
	}, n)
	for i := range n {
		wg.Go(func() {
			m, created, err := token.New(context.Background(), token.Config{Dir: dir, DB: db})
			results[i].created, results[i].err = created, err
			if err == nil {
				results[i].jwks = m.JWKS()
			}
		})
	}
	wg.Wait()
	creators := 0
	for _, r := range results {
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.created {
			creators++
		}
		if !bytes.Equal(r.jwks, results[0].jwks) {
			t.Errorf("Managers disagree on the key:\n%s\n%s", r.jwks, results[0].jwks)
		}
	}
	if creators != 1 {
		t.Errorf("%d Managers created the key, want 1", creators)
	}
}

func TestCorruptKeyIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, token.KeyFile), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := token.New(context.Background(), token.Config{Dir: dir, DB: stores[0].open(t)}); err == nil {
		t.Fatal("New accepted a corrupt key file")
	}
	// It must not have been replaced: that would silently log everyone out.
	if data, _ := os.ReadFile(filepath.Join(dir, token.KeyFile)); string(data) != "not a key" {
		t.Error("New overwrote the corrupt key file")
	}
}
