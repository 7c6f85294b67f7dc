package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	secretA = []byte("secret-a")
	secretB = []byte("secret-b")
	body    = []byte(`{"specversion":"1.0","id":"e1","type":"DonationMade","source":"/bluepoint"}`)
	signed  = time.Unix(1_760_000_000, 0)
)

func headers(ts time.Time, sigs ...string) http.Header {
	h := http.Header{}
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	if len(sigs) > 0 {
		h.Set(HeaderSignature, strings.Join(sigs, ","))
	}
	return h
}

func TestSignFormat(t *testing.T) {
	sig := Sign(secretA, signed, body)
	if !strings.HasPrefix(sig, "v1=") || len(sig) != len("v1=")+64 {
		t.Fatalf("Sign = %q, want v1=<64 hex digits>", sig)
	}
	if Sign(secretA, signed, body) != sig {
		t.Fatal("Sign is not deterministic")
	}
	// Known answer computed independently (openssl dgst -sha256 -hmac), so
	// the documented scheme and the code cannot drift apart.
	got := Sign([]byte("whsec_test"), signed, []byte(`{"id":"e1"}`))
	if want := "v1=8ee46ed58974c7df02c09b735c40376cd8352878cced403d2e3004133ef56ded"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	now := signed.Add(30 * time.Second)
	tests := []struct {
		name    string
		secrets [][]byte
		header  http.Header
		body    []byte
		now     time.Time
		want    error
	}{
		{"round trip", [][]byte{secretA}, headers(signed, Sign(secretA, signed, body)), body, now, nil},
		{"clock behind sender", [][]byte{secretA}, headers(signed, Sign(secretA, signed, body)), body, signed.Add(-time.Minute), nil},
		{"tampered body", [][]byte{secretA}, headers(signed, Sign(secretA, signed, body)), append([]byte(" "), body...), now, ErrBadSignature},
		{"wrong secret", [][]byte{secretB}, headers(signed, Sign(secretA, signed, body)), body, now, ErrBadSignature},
		{"timestamp changed", [][]byte{secretA}, headers(signed.Add(time.Second), Sign(secretA, signed, body)), body, now, ErrBadSignature},
		{"stale", [][]byte{secretA}, headers(signed, Sign(secretA, signed, body)), body, signed.Add(6 * time.Minute), ErrStale},
		{"from the future", [][]byte{secretA}, headers(signed, Sign(secretA, signed, body)), body, signed.Add(-6 * time.Minute), ErrStale},
		{"stale and forged", [][]byte{secretB}, headers(signed, Sign(secretA, signed, body)), body, signed.Add(time.Hour), ErrBadSignature},
		{"no signature header", [][]byte{secretA}, headers(signed), body, now, ErrMissingSignature},
		{"no timestamp header", [][]byte{secretA}, http.Header{HeaderSignature: {Sign(secretA, signed, body)}}, body, now, ErrMissingSignature},
		{"only unknown versions", [][]byte{secretA}, headers(signed, "v2=abcd"), body, now, ErrMissingSignature},
		{"malformed timestamp", [][]byte{secretA}, http.Header{HeaderTimestamp: {"yesterday"}, HeaderSignature: {Sign(secretA, signed, body)}}, body, now, ErrBadSignature},
		{"garbage value", [][]byte{secretA}, headers(signed, "v1=zz"), body, now, ErrBadSignature},
		{"empty secret never matches", [][]byte{nil}, headers(signed, Sign(nil, signed, body)), body, now, ErrBadSignature},
		{"rotation: receiver holds old and new", [][]byte{secretB, secretA}, headers(signed, Sign(secretA, signed, body)), body, now, nil},
		{"rotation: sender signs with both", [][]byte{secretB}, headers(signed, Sign(secretA, signed, body), Sign(secretB, signed, body)), body, now, nil},
		{"rotation: unknown version alongside", [][]byte{secretA}, headers(signed, "v2=00", " "+Sign(secretA, signed, body)), body, now, nil},
		{"rotation: neither secret", [][]byte{[]byte("c"), []byte("d")}, headers(signed, Sign(secretA, signed, body), Sign(secretB, signed, body)), body, now, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secrets, tt.header, tt.body, tt.now, 0)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyRepeatedHeaderAndTolerance(t *testing.T) {
	h := headers(signed)
	h.Add(HeaderSignature, Sign(secretB, signed, body))
	h.Add(HeaderSignature, Sign(secretA, signed, body))
	if err := Verify([][]byte{secretA}, h, body, signed, 0); err != nil {
		t.Fatalf("signature in a second header line: %v", err)
	}
	late := signed.Add(90 * time.Second)
	if err := Verify([][]byte{secretA}, h, body, late, time.Minute); !errors.Is(err, ErrStale) {
		t.Fatalf("custom tolerance: %v, want ErrStale", err)
	}
	if err := Verify([][]byte{secretA}, h, body, late, 2*time.Minute); err != nil {
		t.Fatalf("within custom tolerance: %v", err)
	}
}
