package pii

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeySize is the length in bytes of master and data keys (AES-256).
const KeySize = 32

// MasterKeyFile is the name of the master key file inside the secrets
// directory given to [LoadOrCreateMasterKey].
const MasterKeyFile = "master.key"

// MasterKey wraps every data key and keys every blind index. It must live
// outside the database (a secrets directory or an environment variable), so
// that a copy of the database alone reveals no personal data. Losing it makes
// every sealed field unreadable, exactly as if every subject were erased.
type MasterKey [KeySize]byte

// String keeps the key out of logs and error messages.
func (MasterKey) String() string { return "pii.MasterKey(redacted)" }

// GoString keeps the key out of %#v output too.
func (MasterKey) GoString() string { return "pii.MasterKey(redacted)" }

// Encode returns the key in the base64 form that [MasterKeyFromEnv] and the
// key file use, for an operator who must copy it into a secret store.
func (k MasterKey) Encode() string { return base64.StdEncoding.EncodeToString(k[:]) }

// NewMasterKey returns a fresh random master key.
func NewMasterKey() (MasterKey, error) {
	var k MasterKey
	if _, err := rand.Read(k[:]); err != nil {
		return MasterKey{}, fmt.Errorf("pii: generate master key: %w", err)
	}
	return k, nil
}

// MasterKeyFromEnv parses a base64 (standard encoding) master key, as given
// in the BLUEPOINT_MASTER_KEY environment variable. Surrounding white space is
// ignored. The caller reads the variable, so configuration stays in one place.
func MasterKeyFromEnv(value string) (MasterKey, error) {
	return parseMasterKey("environment value", value)
}

func parseMasterKey(source, value string) (MasterKey, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return MasterKey{}, fmt.Errorf("%w: %s is empty; want %d random bytes in base64", ErrBadMasterKey, source, KeySize)
	}
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return MasterKey{}, fmt.Errorf("%w: %s is not valid base64: %v", ErrBadMasterKey, source, err)
	}
	if len(raw) != KeySize {
		return MasterKey{}, fmt.Errorf("%w: %s decodes to %d bytes; want %d", ErrBadMasterKey, source, len(raw), KeySize)
	}
	var k MasterKey
	copy(k[:], raw)
	return k, nil
}

// LoadOrCreateMasterKey reads dir/master.key, or creates it (and dir, mode
// 0700) with a fresh random key if it does not exist; created reports which.
// The file holds the key in base64 and must have mode 0600 or stricter: a key
// that others can read protects nothing, so a group- or world-accessible file
// is refused rather than silently used.
//
// Creation is atomic: the key is written to a temporary file and hard-linked
// into place, so two processes starting together agree on one key and no
// reader ever sees a half-written file.
func LoadOrCreateMasterKey(dir string) (key MasterKey, created bool, err error) {
	path := filepath.Join(dir, MasterKeyFile)
	key, err = readMasterKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return MasterKey{}, false, fmt.Errorf("pii: create secrets directory: %w", err)
	}
	key, err = NewMasterKey()
	if err != nil {
		return MasterKey{}, false, err
	}
	switch err := publishKeyFile(dir, path, key); {
	case err == nil:
		return key, true, nil
	case errors.Is(err, fs.ErrExist):
		// Another process won the race; use its key.
		key, err = readMasterKeyFile(path)
		return key, false, err
	default:
		return MasterKey{}, false, err
	}
}

func readMasterKeyFile(path string) (MasterKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return MasterKey{}, fmt.Errorf("pii: open master key: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return MasterKey{}, fmt.Errorf("pii: stat master key: %w", err)
	}
	if !info.Mode().IsRegular() {
		return MasterKey{}, fmt.Errorf("%w: %s is not a regular file", ErrBadMasterKey, path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return MasterKey{}, fmt.Errorf("%w: %s has mode %#o, which lets other users read it; run chmod 600 on it", ErrBadMasterKey, path, perm)
	}
	// A valid file is 45 bytes; the limit keeps a wrong path from reading a
	// large file into memory.
	raw, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return MasterKey{}, fmt.Errorf("pii: read master key: %w", err)
	}
	return parseMasterKey(path, string(raw))
}

// publishKeyFile writes key to a temporary file in dir and links it to path,
// failing with fs.ErrExist if path already exists.
func publishKeyFile(dir, path string, key MasterKey) error {
	tmp, err := os.CreateTemp(dir, ".master.key-*")
	if err != nil {
		return fmt.Errorf("pii: create master key: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp uses mode 0600; Chmod makes that explicit and umask-proof.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("pii: create master key: %w", err)
	}
	if _, err := tmp.WriteString(key.Encode() + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("pii: write master key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("pii: sync master key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("pii: close master key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fs.ErrExist
		}
		return fmt.Errorf("pii: install master key: %w", err)
	}
	// Make the new directory entry durable; best effort, as not every
	// platform can sync a directory.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
