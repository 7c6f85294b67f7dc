package encounter

import (
	"crypto/ed25519"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/keyfile"
)

// KeyFileName is the name of the signing key file inside the key directory.
const KeyFileName = "encounter.key"

// ErrKeyPermissions is returned by LoadOrCreateKey when the key file can be
// read by group or others: anyone who can read it can mint tokens and so
// award points, so the server refuses to start rather than use it.
var ErrKeyPermissions = keyfile.ErrPermissions

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
// See keyfile.LoadOrCreate for the file's format and permissions.
func LoadOrCreateKey(dir string) (key ed25519.PrivateKey, created bool, err error) {
	key, created, err = keyfile.LoadOrCreate(dir, KeyFileName)
	if err != nil {
		return nil, false, fmt.Errorf("encounter: %w", err)
	}
	return key, created, nil
}
