package token_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/auth/token"
)

func TestRotate(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		clk := newClock()
		m, _ := newManager(t, s, clk)
		p0, err := m.Issue(ctx, "acc-1", "officer")
		if err != nil {
			t.Fatal(err)
		}
		if len(p0.RefreshToken) < 43 { // 256 bits in base64
			t.Errorf("refresh token %q is shorter than 256 bits", p0.RefreshToken)
		}
		want := token.Claims{Subject: "acc-1", Role: "officer"}
		prev := p0
		for i := range 3 {
			clk.Advance(20 * time.Minute) // past the access token's expiry
			c, p, err := m.Rotate(ctx, prev.RefreshToken)
			if err != nil {
				t.Fatalf("rotation %d: %v", i, err)
			}
			if c != want {
				t.Errorf("rotation %d: claims %+v, want %+v", i, c, want)
			}
			if p.RefreshToken == prev.RefreshToken || p.AccessToken == prev.AccessToken {
				t.Errorf("rotation %d returned a token it was given", i)
			}
			if got, err := m.Verify(p.AccessToken); err != nil || got != want {
				t.Errorf("rotation %d: new access token verifies as %+v, %v", i, got, err)
			}
			prev = p
		}
	})
}

// TestRotateReuseRevokesFamily: presenting a spent token means it leaked,
// so the session descending from it ends too; other sessions do not.
func TestRotateReuseRevokesFamily(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		m, _ := newManager(t, s, newClock())
		p0, err := m.Issue(ctx, "acc-1", "civilian")
		if err != nil {
			t.Fatal(err)
		}
		other, err := m.Issue(ctx, "acc-1", "civilian") // another device
		if err != nil {
			t.Fatal(err)
		}
		_, p1, err := m.Rotate(ctx, p0.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = m.Rotate(ctx, p0.RefreshToken)
		if !errors.Is(err, token.ErrReused) || !errors.Is(err, token.ErrInvalid) {
			t.Fatalf("second use = %v, want ErrReused (and ErrInvalid)", err)
		}
		if _, _, err := m.Rotate(ctx, p1.RefreshToken); !errors.Is(err, token.ErrInvalid) || errors.Is(err, token.ErrReused) {
			t.Errorf("token from before the reuse = %v, want ErrInvalid (revoked)", err)
		}
		if _, _, err := m.Rotate(ctx, p0.RefreshToken); !errors.Is(err, token.ErrReused) {
			t.Errorf("third use = %v, want ErrReused", err)
		}
		if _, _, err := m.Rotate(ctx, other.RefreshToken); err != nil {
			t.Errorf("another session of the account was revoked: %v", err)
		}
	})
}

// TestRotateConcurrently: of several requests spending one token at once,
// exactly one gets a new pair; the others are reuses.
func TestRotateConcurrently(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		m, _ := newManager(t, s, newClock())
		p, err := m.Issue(ctx, "acc-1", "merchant")
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				_, _, errs[i] = m.Rotate(ctx, p.RefreshToken)
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, token.ErrReused):
				t.Errorf("a losing rotation returned %v, want ErrReused", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d rotations succeeded, want exactly 1", ok)
		}
	})
}

func TestRotateRefuses(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		clk := newClock()
		m, _ := newManager(t, s, clk)
		p, err := m.Issue(ctx, "acc-1", "family")
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range []string{"", "unknown", p.AccessToken, p.RefreshToken + "x"} {
			if _, _, err := m.Rotate(ctx, raw); !errors.Is(err, token.ErrInvalid) || errors.Is(err, token.ErrReused) {
				t.Errorf("Rotate(%q) = %v, want ErrInvalid", raw, err)
			}
		}
		clk.Advance(30*24*time.Hour + time.Millisecond)
		if _, _, err := m.Rotate(ctx, p.RefreshToken); !errors.Is(err, token.ErrInvalid) || errors.Is(err, token.ErrReused) {
			t.Errorf("Rotate of an expired token = %v, want ErrInvalid", err)
		}
	})
}

func TestRevokeSubject(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		m, _ := newManager(t, s, newClock())
		a1, _ := m.Issue(ctx, "acc-a", "charity")
		a2, _ := m.Issue(ctx, "acc-a", "charity")
		_, a2, err := m.Rotate(ctx, a2.RefreshToken) // a rotated session too
		if err != nil {
			t.Fatal(err)
		}
		b, _ := m.Issue(ctx, "acc-b", "charity")
		if err := m.RevokeSubject(ctx, "acc-a"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []token.Pair{a1, a2} {
			if _, _, err := m.Rotate(ctx, p.RefreshToken); !errors.Is(err, token.ErrInvalid) {
				t.Errorf("Rotate after RevokeSubject = %v, want ErrInvalid", err)
			}
		}
		if _, _, err := m.Rotate(ctx, b.RefreshToken); err != nil {
			t.Errorf("another account's session was revoked: %v", err)
		}
	})
}

// TestStoreHoldsHashes: the table must not hold usable tokens, and expired
// rows go away rather than pile up.
func TestStoreHoldsHashesAndPrunes(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		clk := newClock()
		db := s.open(t)
		m, _, err := token.New(ctx, token.Config{Dir: t.TempDir(), DB: db, Postgres: s.postgres, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.Issue(ctx, "acc-1", "staff")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(ctx, `SELECT id, family, subject, role FROM auth_refresh_tokens`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var cols [4]string
			if err := rows.Scan(&cols[0], &cols[1], &cols[2], &cols[3]); err != nil {
				t.Fatal(err)
			}
			for _, c := range cols {
				if c == p.RefreshToken {
					t.Errorf("the table holds the refresh token in the clear: %q", cols)
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()

		count := func() int {
			t.Helper()
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM auth_refresh_tokens`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		clk.Advance(31 * 24 * time.Hour)
		if _, err := m.Issue(ctx, "acc-2", "staff"); err != nil {
			t.Fatal(err)
		}
		if got := count(); got != 1 {
			t.Errorf("%d rows after the first token expired, want 1", got)
		}
	})
}

// TestNewTwiceOnOneDatabase: every process of a deployment runs New on the
// same table.
func TestNewTwiceOnOneDatabase(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		cfg := token.Config{Dir: t.TempDir(), DB: s.open(t), Postgres: s.postgres}
		a, _, err := token.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		p, err := a.Issue(ctx, "acc-1", "officer")
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := token.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.Rotate(ctx, p.RefreshToken); err != nil {
			t.Errorf("a second Manager cannot rotate the first one's token: %v", err)
		}
	})
}
