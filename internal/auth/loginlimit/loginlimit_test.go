package loginlimit

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/bluepoint/bluepoint/internal/testenv"
)

type clock = testenv.Clock

func newLimiter(cfg Config) (*Limiter, *clock) {
	clk := testenv.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	cfg.Now = clk.Now
	return New(cfg), clk
}

// allowN makes n attempts and fails the test unless all go ahead.
func allowN(t *testing.T, l *Limiter, n int, email, addr string) {
	t.Helper()
	for i := range n {
		if ok, wait := l.Allow(email, addr); !ok {
			t.Fatalf("attempt %d for (%s, %s) refused, wait %v", i+1, email, addr, wait)
		}
	}
}

func TestBurstThenRefusal(t *testing.T) {
	l, _ := newLimiter(Config{})
	allowN(t, l, 5, "a@example.com", "192.0.2.1")
	ok, wait := l.Allow("a@example.com", "192.0.2.1")
	if ok {
		t.Fatal("sixth attempt within a minute went ahead, want the default burst of 5")
	}
	// One attempt per 12s is the default rate, and nothing has refilled.
	if wait <= 0 || wait > 12*time.Second {
		t.Errorf("retryAfter = %v, want in (0, 12s]", wait)
	}
}

func TestEmailsAreNormalised(t *testing.T) {
	l, _ := newLimiter(Config{EmailBurst: 2})
	allowN(t, l, 1, "Bob@Example.com", "192.0.2.1")
	allowN(t, l, 1, "  bob@example.COM\t", "192.0.2.2")
	if ok, _ := l.Allow("BOB@EXAMPLE.COM", "192.0.2.3"); ok {
		t.Error("case and space variants of an email have separate budgets")
	}
}

func TestAddressesAreNormalised(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"192.0.2.1:51234", "192.0.2.1"},
		{" ::ffff:192.0.2.1 ", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"Not-An-IP", "not-an-ip"},
	}
	for _, tt := range tests {
		if got := normalizeAddr(tt.in); got != tt.want {
			t.Errorf("normalizeAddr(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLimitsAreIndependent: exhausting one email leaves other emails from
// the same address alone, and exhausting an address refuses every email
// from it but not the same emails from elsewhere.
func TestLimitsAreIndependent(t *testing.T) {
	l, _ := newLimiter(Config{EmailBurst: 2, AddrBurst: 4})
	allowN(t, l, 2, "a@example.com", "192.0.2.1")
	if ok, _ := l.Allow("a@example.com", "192.0.2.1"); ok {
		t.Fatal("email over its burst went ahead")
	}
	if ok, _ := l.Allow("a@example.com", "198.51.100.7"); ok {
		t.Error("email over its burst went ahead from another address")
	}
	// The refused attempts above took nothing from the address.
	allowN(t, l, 2, "b@example.com", "192.0.2.1")
	ok, wait := l.Allow("c@example.com", "192.0.2.1")
	if ok || wait <= 0 {
		t.Fatalf("address over its burst: ok=%v wait=%v, want refused with a wait", ok, wait)
	}
	// Refused by the address, so c@ was not charged: it still has its burst.
	allowN(t, l, 2, "c@example.com", "198.51.100.7")
}

func TestRecoversWithTime(t *testing.T) {
	l, clk := newLimiter(Config{PerEmail: rate.Every(10 * time.Second), EmailBurst: 2})
	allowN(t, l, 2, "a@example.com", "192.0.2.1")
	ok, wait := l.Allow("a@example.com", "192.0.2.1")
	if ok || wait != 10*time.Second {
		t.Fatalf("Allow = %v, %v; want refused for 10s", ok, wait)
	}
	clk.Advance(wait - time.Millisecond)
	if ok, _ := l.Allow("a@example.com", "192.0.2.1"); ok {
		t.Fatal("went ahead before retryAfter elapsed")
	}
	clk.Advance(time.Millisecond)
	allowN(t, l, 1, "a@example.com", "192.0.2.1")
	clk.Advance(time.Hour)
	allowN(t, l, 2, "a@example.com", "192.0.2.1")
}

func TestConcurrentUseHonoursBurst(t *testing.T) {
	l, _ := newLimiter(Config{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 50 {
		wg.Go(func() {
			if ok, _ := l.Allow("a@example.com", "192.0.2.1"); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 5 {
		t.Errorf("%d of 50 concurrent attempts went ahead, want the burst of 5", allowed)
	}
}

// TestIdleEntriesEvicted: an entry whose bucket has refilled goes, so memory
// follows recent traffic, not all traffic ever seen.
func TestIdleEntriesEvicted(t *testing.T) {
	l, clk := newLimiter(Config{})
	for i := range 1000 {
		l.Allow(fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("192.0.2.%d", i%250))
	}
	if n := l.emails.lru.Len(); n != 1000 {
		t.Fatalf("%d emails held, want 1000", n)
	}
	// Refilling takes 12s per email attempt and 2s per address attempt
	// (4 each here), so nothing may go yet.
	clk.Advance(5 * time.Second)
	l.Allow("late@example.com", "198.51.100.1")
	if e, a := l.emails.lru.Len(), l.addrs.lru.Len(); e != 1001 || a != 251 {
		t.Errorf("held %d emails and %d addresses after 5s, want 1001 and 251 (none refilled)", e, a)
	}
	clk.Advance(2 * time.Minute)
	l.Allow("later@example.com", "198.51.100.2")
	if e, a := l.emails.lru.Len(), l.addrs.lru.Len(); e != 1 || a != 1 || len(l.emails.byKey) != 1 || len(l.addrs.byKey) != 1 {
		t.Errorf("held %d emails and %d addresses after all refilled, want 1 each (the latest)", e, a)
	}
}

// TestEvictionKeepsLimiting: dropping a refilled entry must not forget a
// limit still in force, including one behind it in the LRU order.
func TestEvictionKeepsLimiting(t *testing.T) {
	l, clk := newLimiter(Config{PerEmail: rate.Every(time.Minute), EmailBurst: 3})
	allowN(t, l, 3, "drained@example.com", "192.0.2.1")
	clk.Advance(10 * time.Second)
	allowN(t, l, 1, "once@example.com", "192.0.2.2")
	clk.Advance(2 * time.Minute) // once@ has refilled; drained@ has 2 of 3
	allowN(t, l, 1, "other@example.com", "192.0.2.3")
	allowN(t, l, 2, "drained@example.com", "192.0.2.1")
	if ok, _ := l.Allow("drained@example.com", "192.0.2.1"); ok {
		t.Error("an entry still limiting was forgotten")
	}
}

func TestMaxEntries(t *testing.T) {
	l, _ := newLimiter(Config{MaxEntries: 10})
	for i := range 100 {
		l.Allow(fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("192.0.2.%d", i))
		if e, a := l.emails.lru.Len(), l.addrs.lru.Len(); e > 10 || a > 10 || len(l.emails.byKey) != e || len(l.addrs.byKey) != a {
			t.Fatalf("after %d keys: %d emails (%d in map), %d addresses (%d in map); want at most 10", i+1, e, len(l.emails.byKey), a, len(l.addrs.byKey))
		}
	}
	// The most recent keys are the ones kept.
	if _, ok := l.emails.byKey["user99@example.com"]; !ok {
		t.Error("the most recent email was evicted")
	}
}
