package token_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/auth/token"
)

// TestRevokeEndsAccessTokens: once an account's sessions end, its access
// tokens are refused at once by the process that ended them and within
// SyncEvery by another process on the same database, while other accounts
// and later sessions are untouched.
func TestRevokeEndsAccessTokens(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		clk := newClock()
		m, cfg := newManager(t, s, clk)
		cfg.SyncEvery = 5 * time.Second
		other, _, err := token.New(ctx, cfg) // another process of the deployment
		if err != nil {
			t.Fatal(err)
		}
		a, _ := m.Issue(ctx, "acc-a", "civilian")
		b, _ := m.Issue(ctx, "acc-b", "civilian")
		for _, v := range []*token.Manager{m, other} {
			if _, err := v.Verify(a.AccessToken); err != nil {
				t.Fatalf("before revocation: %v", err)
			}
		}
		clk.Advance(time.Second)
		if err := m.RevokeSubject(ctx, "acc-a"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Verify(a.AccessToken); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("revoking process: Verify = %v, want ErrInvalid", err)
		}
		if _, err := other.Verify(a.AccessToken); err != nil {
			t.Errorf("other process before its sync: %v (it had synced less than SyncEvery ago)", err)
		}
		clk.Advance(5 * time.Second)
		if _, err := other.Verify(a.AccessToken); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("other process after SyncEvery: Verify = %v, want ErrInvalid", err)
		}
		for _, v := range []*token.Manager{m, other} {
			if _, err := v.Verify(b.AccessToken); err != nil {
				t.Errorf("another account's token refused: %v", err)
			}
		}
		clk.Advance(time.Second)
		again, _ := m.Issue(ctx, "acc-a", "civilian")
		if _, err := m.Verify(again.AccessToken); err != nil {
			t.Errorf("a session started after the revocation is refused: %v", err)
		}
	})
}

// TestRevocationsAgeOut: a revocation outlives every token it could refuse,
// and no more; a new Manager on the database learns of live ones.
func TestRevocationsAgeOut(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		clk := newClock()
		m, cfg := newManager(t, s, clk)
		a, _ := m.Issue(ctx, "acc-a", "family")
		if err := m.RevokeSubject(ctx, "acc-a"); err != nil {
			t.Fatal(err)
		}
		fresh, _, err := token.New(ctx, cfg) // a restarted process
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fresh.Verify(a.AccessToken); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("a restarted process accepts a revoked token: %v", err)
		}
		clk.Advance(2 * time.Hour) // past the access TTL and the prune interval
		if _, err := m.Issue(ctx, "acc-z", "family"); err != nil {
			t.Fatal(err) // Issue prunes
		}
		var n int
		if err := cfg.DB.QueryRowContext(ctx, `SELECT count(*) FROM auth_revocations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d revocations left after every token they could refuse expired", n)
		}
	})
}
