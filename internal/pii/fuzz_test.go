package pii

import (
	"context"
	"errors"
	"testing"
)

// FuzzOpen checks that Open never panics and only fails with its documented
// errors, whatever string it is given. Plain `go test` runs the seeds only.
func FuzzOpen(f *testing.F) {
	c, _, _ := newTestCipher(f)
	ctx := context.Background()
	valid, err := c.Seal(ctx, "account-a", "Zoë")
	if err != nil {
		f.Fatal(err)
	}
	if _, err := c.Seal(ctx, "account-b", "Bob"); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		valid, "", "pii:", "pii:v1:", "pii:v1::", "pii:v1:account-a:", "pii:v1:account-a:AAAA",
		"pii:v1:account-b:" + valid[len("pii:v1:account-a:"):], "pii:v2:x:y", "pii:v1:a:b:c",
		"pii:v1:\x00:AAAA", "plain text", "pii:v1:account-a:" + string(make([]byte, 64)),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		plain, err := c.Open(ctx, token)
		switch {
		case err == nil:
			if token != valid || plain != "Zoë" {
				t.Fatalf("Open(%q) = %q without error", token, plain)
			}
		case errors.Is(err, ErrMalformedToken), errors.Is(err, ErrTampered), errors.Is(err, ErrNoKey):
			if IsSealed(token) == errors.Is(err, ErrMalformedToken) {
				t.Fatalf("IsSealed(%q) disagrees with Open error %v", token, err)
			}
		default:
			t.Fatalf("Open(%q): unexpected error %v", token, err)
		}
	})
}
