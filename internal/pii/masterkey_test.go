package pii

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateMasterKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	key, created, err := LoadOrCreateMasterKey(dir)
	if err != nil || !created {
		t.Fatalf("first load: created=%v err=%v", created, err)
	}
	if key == (MasterKey{}) {
		t.Fatal("created key is all zeros")
	}
	assertMode(t, filepath.Join(dir, MasterKeyFile), 0o600)
	assertMode(t, dir, 0o700|os.ModeDir)

	again, created, err := LoadOrCreateMasterKey(dir)
	if err != nil || created {
		t.Fatalf("reload: created=%v err=%v", created, err)
	}
	if again != key {
		t.Fatal("reloaded key differs from the created one")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("secrets dir holds %d entries, want only %s", len(entries), MasterKeyFile)
	}
}

func TestLoadOrCreateMasterKeyRacing(t *testing.T) {
	dir := t.TempDir()
	const n = 16
	keys := make([]MasterKey, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, _, err := LoadOrCreateMasterKey(dir)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for i := range keys {
		if keys[i] != keys[0] {
			t.Fatalf("process %d got a different key", i)
		}
	}
}

func TestLoadMasterKeyRejects(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(make([]byte, KeySize))
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"group and world readable", good, 0o644, "chmod 600"},
		{"group readable", good, 0o640, "chmod 600"},
		{"bad base64", "not base64!", 0o600, "not valid base64"},
		{"too short", base64.StdEncoding.EncodeToString(make([]byte, 16)), 0o600, "decodes to 16 bytes; want 32"},
		{"too long", base64.StdEncoding.EncodeToString(make([]byte, 33)), 0o600, "decodes to 33 bytes"},
		{"empty", "", 0o600, "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, MasterKeyFile)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, created, err := LoadOrCreateMasterKey(dir)
			if !errors.Is(err, ErrBadMasterKey) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrBadMasterKey mentioning %q", err, tt.want)
			}
			if created {
				t.Fatal("a rejected key file was replaced")
			}
		})
	}
}

func TestLoadMasterKeyBadPaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, MasterKeyFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateMasterKey(dir); !errors.Is(err, ErrBadMasterKey) {
		t.Fatalf("key path is a directory: err = %v, want ErrBadMasterKey", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateMasterKey(filepath.Join(file, "secrets")); err == nil {
		t.Fatal("secrets dir under a regular file: no error")
	}
}

func TestMasterKeyFromEnv(t *testing.T) {
	k, err := NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, value string
		wantErr     string
	}{
		{"valid", k.Encode(), ""},
		{"valid with newline", " " + k.Encode() + "\n", ""},
		{"empty", "", "is empty"},
		{"url alphabet", strings.Repeat("_", 43) + "=", "not valid base64"},
		{"wrong length", base64.StdEncoding.EncodeToString([]byte("short")), "decodes to 5 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MasterKeyFromEnv(tt.value)
			if tt.wantErr == "" {
				if err != nil || got != k {
					t.Fatalf("got err %v, same key %v", err, got == k)
				}
				return
			}
			if !errors.Is(err, ErrBadMasterKey) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ErrBadMasterKey mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestKeysAreRedactedInFormatting(t *testing.T) {
	m, _ := NewMasterKey()
	d, _ := NewDataKey()
	for _, s := range []string{fmt.Sprint(m), fmt.Sprintf("%v %+v %#v %s", m, m, m, m), fmt.Sprint(d), fmt.Sprintf("%#v", d)} {
		if strings.Contains(s, m.Encode()) || !strings.Contains(s, "redacted") {
			t.Fatalf("formatted key not redacted: %q", s)
		}
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode() & (os.ModePerm | os.ModeDir); got != want {
		t.Fatalf("%s has mode %v, want %v", filepath.Base(path), got, want)
	}
}
