package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// BlindIndex returns a keyed hash (hex HMAC-SHA256) of value, for finding a
// record by a personal value (an email at sign-in, a uniqueness check at
// sign-up) without storing the value in the clear. The same purpose and value
// always give the same index; without the master key an index cannot be
// computed, so it cannot be checked against a list of guessed addresses.
//
// Each purpose ("email", "phone") hashes with its own key derived from the
// master key, so indexes of different purposes cannot be joined. Normalize the
// value first (see [NormalizeEmail]): the index matches exact bytes only.
//
// The index is not erased with a subject's data key. Callers that must forget
// a person delete the index rows along with the erasure.
func BlindIndex(master MasterKey, purpose, value string) string {
	mac := hmac.New(sha256.New, deriveKey(master, infoBlindIndex+purpose))
	mac.Write([]byte(value))
	return hex.EncodeToString(mac.Sum(nil))
}

// NormalizeEmail trims surrounding white space and lower-cases an email
// address, so that "  Ann@Example.ORG" and "ann@example.org" share one blind
// index and one account. Lower-casing the local part is stricter than the
// mail standards allow, but it is what people expect of a sign-in name.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}
