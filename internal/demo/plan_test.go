package demo

import (
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain/account"
)

// The full-size plan, checked without running it: the load itself is
// tested at a smaller size.
func TestPlanFullSize(t *testing.T) {
	p := Params{End: time.Date(2026, 3, 1, 15, 4, 5, 0, time.UTC)}.WithDefaults()
	w := newWorld(nil, &clock{}, p)
	w.plan()

	kinds := map[account.Kind]int{w.marker.kind: 1}
	logins, closed := map[account.Kind]int{}, 0
	for _, m := range w.members {
		kinds[m.kind]++
		if m.login {
			logins[m.kind]++
			if m.openDay != 0 || m.closeDay >= 0 {
				t.Errorf("login %s opens on day %d and closes on day %d; want the first day, never", m.email, m.openDay, m.closeDay)
			}
		}
		if m.closeDay >= 0 {
			closed++
			if m.closeDay <= m.openDay || m.closeDay >= w.days {
				t.Errorf("%s opens on day %d and closes on day %d", m.email, m.openDay, m.closeDay)
			}
		}
	}
	if len(w.members)+1 != DefaultAccounts {
		t.Errorf("%d accounts planned, want %d", len(w.members)+1, DefaultAccounts)
	}
	for _, k := range account.Kinds {
		if kinds[k] == 0 || logins[k] != 1 {
			t.Errorf("%d %s accounts, %d of them logins; want some, one login", kinds[k], k, logins[k])
		}
	}
	if closed < DefaultAccounts/50 {
		t.Errorf("%d closures planned, want at least %d", closed, DefaultAccounts/50)
	}
	sum := 0
	for _, q := range w.quota {
		if q < 0 {
			t.Fatalf("negative quota in %v", w.quota)
		}
		sum += q
	}
	if sum != DefaultTransactions || len(w.quota) != 365 {
		t.Errorf("%d transactions planned over %d days, want %d over 365", sum, len(w.quota), DefaultTransactions)
	}
	if w.quota[len(w.quota)-1] <= w.quota[0] {
		t.Errorf("activity does not grow with the population: %d on the first day, %d on the last", w.quota[0], w.quota[len(w.quota)-1])
	}
	if !w.start.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("the year starts %s", w.start)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"Lucía O'Brien": "lucia.obrien", "Ana Da Silva": "ana.da.silva", "Chloé Müller": "chloe.muller"} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}
