package encounter

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	k1, created, err := LoadOrCreateKey(dir)
	if err != nil || !created {
		t.Fatalf("first load: created=%v err=%v", created, err)
	}
	path := filepath.Join(dir, KeyFileName)
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
			info, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Mode().Perm(); got != want {
				t.Errorf("%s mode %04o, want %04o", p, got, want)
			}
		}
	}
	k2, created, err := LoadOrCreateKey(dir)
	if err != nil || created {
		t.Fatalf("reload: created=%v err=%v", created, err)
	}
	if !bytes.Equal(k1, k2) {
		t.Fatal("reloaded key differs")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("key directory holds %d entries, want only the key", len(entries))
	}

	// A token issued before a restart verifies after it.
	tok, err := (&Issuer{Key: k1}).Issue(civilian)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&Issuer{Key: k2}).Verify(tok.Value); err != nil {
		t.Fatal(err)
	}
}

func TestLoadOrCreateKeyRejectsOpenMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix permissions")
	}
	dir := t.TempDir()
	if _, _, err := LoadOrCreateKey(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, KeyFileName), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKey(dir); !errors.Is(err, ErrKeyPermissions) {
		t.Fatalf("err = %v, want ErrKeyPermissions", err)
	}
}

func TestLoadOrCreateKeyRejectsGarbage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyFileName), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKey(dir); err == nil {
		t.Fatal("garbage key file accepted")
	}
}

func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], _, errs[i] = LoadOrCreateKey(dir) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatal("concurrent first starts produced different keys")
		}
	}
}

func TestKeyFromSeed(t *testing.T) {
	if _, err := KeyFromSeed(make([]byte, 31)); err == nil {
		t.Fatal("short seed accepted")
	}
	a, _ := KeyFromSeed(make([]byte, 32))
	b, _ := KeyFromSeed(make([]byte, 32))
	if !bytes.Equal(a, b) || len(a) != 64 {
		t.Fatal("KeyFromSeed is not deterministic")
	}
}
