package app

import (
	"bytes"
	"io"
	"log/slog"
	"regexp"
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain/account"
)

// The credentials printed on first start sign in as staff.
func TestFirstStaffCanSignIn(t *testing.T) {
	cfg := sqliteConfig(t)
	var out bytes.Buffer
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), WithOutput(&out))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer a.Stop(t.Context())
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no password printed: %q", out.String())
	}
	actor, err := a.service.Authenticate(t.Context(), FirstStaffEmail, m[1])
	if err != nil || actor.Kind != account.Staff {
		t.Fatalf("sign in with the printed credentials: %+v, %v", actor, err)
	}
	if _, err := a.service.Authenticate(t.Context(), FirstStaffEmail, m[1]+"x"); err == nil {
		t.Fatal("a wrong password signed in")
	}
}
