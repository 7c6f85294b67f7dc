// Package keyfile keeps the Ed25519 signing keys a process creates on first
// start (the encounter key, the token key) in its secrets directory.
package keyfile

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// ErrPermissions says a key file can be read by group or others: anyone who
// can read it can sign in the process's name, so it is refused rather than
// used.
var ErrPermissions = errors.New("key file is readable by group or others")

// LoadOrCreate returns the Ed25519 key stored in dir/name, generating and
// storing a new one when there is none (created is then true).
//
// The file is PEM "PRIVATE KEY" (PKCS #8), the format openssl writes with
// `openssl genpkey -algorithm ed25519`, so an operator can also provide one.
// The directory is created with mode 0700 and the file with 0600; an
// existing file readable by group or others is refused with ErrPermissions.
// If several processes start at once, all end up with one key: the new file
// is written aside, synced, and linked into place only if no key file exists
// yet, so no process ever reads a half-written key.
func LoadOrCreate(dir, name string) (key ed25519.PrivateKey, created bool, err error) {
	path := filepath.Join(dir, name)
	key, err = read(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create key directory: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, false, fmt.Errorf("encode key: %w", err)
	}
	if err := writeNew(dir, path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			key, err = read(path)
			return key, false, err
		}
		return nil, false, err
	}
	return priv, true, nil
}

// writeNew writes data to a temporary file, syncs it, and hard-links it to
// path, which fails with fs.ErrExist if path exists.
func writeNew(dir, path string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*") // mode 0600
	if err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		// The key must survive a crash once anything signed with it is out.
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("install key: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // make the new name durable
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

func read(path string) (ed25519.PrivateKey, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; run chmod 600 on it", ErrPermissions, path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s is not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s holds a %T, not an Ed25519 key", path, k)
	}
	return priv, nil
}
