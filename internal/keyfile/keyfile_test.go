package keyfile

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	var wg sync.WaitGroup
	keys := make([][]byte, 8)
	created := make([]bool, 8)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, c, err := LoadOrCreate(dir, "a.key")
			if err != nil {
				t.Error(err)
				return
			}
			keys[i], created[i] = k, c
		}()
	}
	wg.Wait()
	n := 0
	for i := range keys {
		if string(keys[i]) != string(keys[0]) {
			t.Fatal("processes starting at once ended up with different keys")
		}
		if created[i] {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d callers say they created the key, want 1", n)
	}
	if info, err := os.Stat(filepath.Join(dir, "a.key")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	if other, _, err := LoadOrCreate(dir, "b.key"); err != nil || string(other) == string(keys[0]) {
		t.Fatalf("a second name should hold a key of its own: %v", err)
	}
	if err := os.Chmod(filepath.Join(dir, "a.key"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreate(dir, "a.key"); !errors.Is(err, ErrPermissions) {
		t.Fatalf("group-readable key: %v", err)
	}
}
