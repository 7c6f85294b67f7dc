package encounter

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

// KeyFileName is the name of the signing key file inside the key directory.
const KeyFileName = "encounter.key"

// ErrKeyPermissions is returned by LoadOrCreateKey when the key file can be
// read by group or others: anyone who can read it can mint tokens and so
// award points, so the server refuses to start rather than use it.
var ErrKeyPermissions = errors.New("encounter key file is readable by group or others")

// KeyFromSeed returns the Ed25519 private key for a 32-byte seed, for keys
// supplied by configuration rather than the key file.
func KeyFromSeed(seed []byte) (ed25519.PrivateKey, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("encounter: key seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// LoadOrCreateKey returns the signing key stored in dir/encounter.key,
// generating and storing a new one on first start (created is then true).
// Keeping the key across restarts keeps tokens already handed out valid.
//
// The file is PEM "PRIVATE KEY" (PKCS #8), the format openssl writes with
// `openssl genpkey -algorithm ed25519`, so an operator can also provide one.
// The directory is created with mode 0700 and the file with 0600; an
// existing file readable by group or others is refused with
// ErrKeyPermissions. If two processes start at once, both end up with the
// same key: the new file is written aside and linked into place only if no
// key file exists yet.
func LoadOrCreateKey(dir string) (key ed25519.PrivateKey, created bool, err error) {
	path := filepath.Join(dir, KeyFileName)
	key, err = readKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("encounter: create key directory: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("encounter: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, false, fmt.Errorf("encounter: encode key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := writeNew(dir, path, data); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			key, err = readKey(path)
			return key, false, err
		}
		return nil, false, err
	}
	return priv, true, nil
}

// writeNew writes data to a temporary file, syncs it, and hard-links it to
// path, which fails with fs.ErrExist if path exists; readers therefore never
// see a partly written key.
func writeNew(dir, path string, data []byte) error {
	f, err := os.CreateTemp(dir, KeyFileName+".tmp*")
	if err != nil {
		return fmt.Errorf("encounter: write key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("encounter: write key: %w", err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("encounter: install key: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // make the new name durable
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

func readKey(path string) (ed25519.PrivateKey, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("encounter: read key: %w", err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; run chmod 600 on it", ErrKeyPermissions, path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("encounter: read key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("encounter: %s is not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("encounter: parse key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("encounter: %s holds a %T, not an ed25519 key", path, k)
	}
	return priv, nil
}
