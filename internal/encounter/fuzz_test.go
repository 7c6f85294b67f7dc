package encounter

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzVerify checks that Verify never panics, only returns its documented
// errors, and accepts only values the issuer key itself would produce:
// Ed25519 signing is deterministic, so re-signing the accepted payload must
// reproduce the accepted signature byte for byte.
func FuzzVerify(f *testing.F) {
	iss, _ := newIssuer(f)
	for _, sub := range []string{civilian, "civ-1", strings.Repeat("z", MaxSubjectLen)} {
		tok, err := iss.Issue(sub)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok.Value)
		f.Add(tok.Value[:len(tok.Value)/2])
		f.Add(strings.Replace(tok.Value, "A", "B", 1))
	}
	f.Add("")
	f.Add(".")
	f.Add("AQ.AQ")
	f.Add("\x00\xff.\x80")
	other, _ := (&Issuer{Key: testKey(f, 2), Now: iss.Now}).Issue(civilian)
	f.Add(other.Value)
	expired, _ := (&Issuer{Key: iss.Key, Now: func() time.Time { return t0.Add(-time.Hour) }}).Issue(civilian)
	f.Add(expired.Value)

	f.Fuzz(func(t *testing.T, value string) {
		c, err := iss.Verify(value)
		if err != nil {
			for _, known := range []error{ErrMalformed, ErrBadSignature, ErrExpired, ErrUnsupportedVersion} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("Verify(%q) returned undocumented error %v", value, err)
		}
		p64, s64, _ := strings.Cut(value, ".")
		payload, err1 := base64.RawURLEncoding.DecodeString(p64)
		sig, err2 := base64.RawURLEncoding.DecodeString(s64)
		if err1 != nil || err2 != nil || !bytes.Equal(ed25519.Sign(iss.Key, payload), sig) {
			t.Fatalf("Verify accepted %q, which the issuer key did not produce", value)
		}
		if b64.EncodeToString(payload)+"."+b64.EncodeToString(sig) != value {
			t.Fatalf("Verify accepted non-canonical encoding %q", value)
		}
		if c.ID == "" || c.CivilianID == "" || !c.ExpiresAt.After(c.IssuedAt) {
			t.Fatalf("accepted token has incomplete claims %+v", c)
		}
	})
}
