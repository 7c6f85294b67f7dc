package token

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/keyfile"
)

// KeyFile is the name of the signing key in the secrets directory.
const KeyFile = "jwt.key"

// loadOrCreateKey reads the signing key, or creates it when there is none;
// several processes starting at once on one secrets directory all end up
// with one key (see keyfile.LoadOrCreate).
func loadOrCreateKey(dir string) (ed25519.PrivateKey, bool, error) {
	key, created, err := keyfile.LoadOrCreate(dir, KeyFile)
	if err != nil {
		return nil, false, fmt.Errorf("token: %w", err)
	}
	return key, created, nil
}

// thumbprint is the key's RFC 7638 JWK thumbprint: a key id that any party
// can recompute from the public key, and that changes when the key does.
func thumbprint(pub ed25519.PublicKey) string {
	// RFC 7638 fixes the members (the required ones, in lexical order) and
	// forbids whitespace.
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// jwk is an RFC 8037 Ed25519 public key.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

func jwks(pub ed25519.PublicKey, kid string) ([]byte, error) {
	b, err := json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{[]jwk{{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub), Kid: kid, Use: "sig", Alg: "EdDSA"}}})
	if err != nil {
		return nil, fmt.Errorf("token: JWKS: %w", err)
	}
	return b, nil
}
