package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names and values of a delivery. They are exported so receivers and
// tests written in Go do not repeat string literals.
const (
	HeaderTimestamp   = "Bluepoint-Timestamp"
	HeaderSignature   = "Bluepoint-Signature"
	HeaderEventID     = "Bluepoint-Event-Id"
	HeaderAttempt     = "Bluepoint-Delivery-Attempt"
	ContentType       = "application/cloudevents+json"
	UserAgent         = "Bluepoint-Webhook/1"
	signaturePrefixV1 = "v1="
)

// DefaultTolerance is how far a request's timestamp may be from the
// receiver's clock when Verify is given no tolerance. It bounds how long a
// captured request can be replayed while leaving room for clock skew and
// slow networks.
const DefaultTolerance = 5 * time.Minute

// Verification failures. Verify wraps one of them (use errors.Is) so a
// receiver can answer 401 and log why without parsing messages.
var (
	// ErrMissingSignature: the timestamp or signature header is absent or
	// holds no v1 value; the request was probably not sent by Bluepoint.
	ErrMissingSignature = errors.New("webhook: missing signature")
	// ErrBadSignature: no v1 value matches any secret, or the timestamp is
	// malformed; the body was altered or the secret is wrong.
	ErrBadSignature = errors.New("webhook: bad signature")
	// ErrStale: the signature is valid but the timestamp is outside the
	// tolerance; a replay, or clocks too far apart.
	ErrStale = errors.New("webhook: stale timestamp")
)

// Sign returns the Bluepoint-Signature header value ("v1=<hex>") for body
// sent at ts. It is exported so a receiver's tests, and Verify, compute the
// signature exactly as the sender does.
func Sign(secret []byte, ts time.Time, body []byte) string {
	return signaturePrefixV1 + hex.EncodeToString(mac(secret, strconv.FormatInt(ts.Unix(), 10), body))
}

// mac computes HMAC-SHA256(secret, timestamp + "." + body) over the
// timestamp text as it travels in the header.
func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a delivery's signature headers against body. It accepts the
// request if any v1 signature matches any of secrets (several secrets let a
// receiver rotate its secret) and the timestamp is within tolerance of now
// (DefaultTolerance when tolerance <= 0). Comparisons are constant time.
//
// The signature is checked before the timestamp, so ErrStale always means an
// authentic but old request. The returned error wraps ErrMissingSignature,
// ErrBadSignature or ErrStale.
func Verify(secrets [][]byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	timestamp := strings.TrimSpace(header.Get(HeaderTimestamp))
	if timestamp == "" {
		return fmt.Errorf("%w: no %s header", ErrMissingSignature, HeaderTimestamp)
	}
	var sigs [][]byte
	seen := false // a v1 value was present, even if malformed
	for _, value := range header.Values(HeaderSignature) {
		for part := range strings.SplitSeq(value, ",") {
			part = strings.TrimSpace(part)
			hexSig, ok := strings.CutPrefix(part, signaturePrefixV1)
			if !ok {
				continue // another scheme version: ignored by design
			}
			seen = true
			sig, err := hex.DecodeString(hexSig)
			if err != nil || len(sig) != sha256.Size {
				continue // cannot match; keep looking at the other values
			}
			sigs = append(sigs, sig)
		}
	}
	if !seen {
		return fmt.Errorf("%w: no v1 value in %s header", ErrMissingSignature, HeaderSignature)
	}
	unix, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: malformed %s %q", ErrBadSignature, HeaderTimestamp, timestamp)
	}
	if !matches(secrets, timestamp, body, sigs) {
		return ErrBadSignature
	}
	sent := time.Unix(unix, 0)
	if skew := now.Sub(sent).Abs(); skew > tolerance {
		return fmt.Errorf("%w: signed at %s, %s from now (tolerance %s)",
			ErrStale, sent.UTC().Format(time.RFC3339), skew.Truncate(time.Second), tolerance)
	}
	return nil
}

// matches reports whether any signature equals the HMAC under any secret. It
// compares every pair instead of stopping early so the time taken does not
// depend on which pair matched.
func matches(secrets [][]byte, timestamp string, body []byte, sigs [][]byte) bool {
	ok := false
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue // an unset secret must never validate anything
		}
		want := mac(secret, timestamp, body)
		for _, sig := range sigs {
			if hmac.Equal(want, sig) {
				ok = true
			}
		}
	}
	return ok
}
