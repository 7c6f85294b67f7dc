// Package loginlimit slows password guessing: it limits sign-in attempts
// per email (against one account being guessed from many addresses) and
// per client address (against one client guessing many accounts).
//
// State lives in memory, per process: with N API replicas a client may get
// up to N times the configured rates. That bounds guessing well enough for
// argon2id-hashed passwords without a shared store on the sign-in path.
//
// Memory is bounded two ways. An entry whose bucket has refilled holds no
// information (a fresh one would be identical), so entries are dropped once
// idle that long: every call drops such entries from the least recently
// used end. And each table holds at most MaxEntries keys; past that the
// least recently used entry is dropped even if it was still limiting,
// which only a client rotating through that many emails or addresses
// within one refill period can exploit.
package loginlimit

import (
	"container/list"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Config configures a Limiter.
type Config struct {
	// PerEmail is the sustained rate of attempts per email. Default 5 per
	// minute.
	PerEmail rate.Limit
	// EmailBurst is how many attempts per email may come at once. Default 5.
	EmailBurst int
	// PerAddr is the sustained rate of attempts per client address.
	// Default 30 per minute.
	PerAddr rate.Limit
	// AddrBurst is how many attempts per address may come at once.
	// Default 30.
	AddrBurst int
	// MaxEntries caps the keys held per table (emails, addresses).
	// Default 100,000 (some tens of MB at most).
	MaxEntries int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// WithDefaults returns the config with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.PerEmail == 0 {
		c.PerEmail = rate.Every(time.Minute / 5)
	}
	if c.EmailBurst == 0 {
		c.EmailBurst = 5
	}
	if c.PerAddr == 0 {
		c.PerAddr = rate.Every(time.Minute / 30)
	}
	if c.AddrBurst == 0 {
		c.AddrBurst = 30
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = 100_000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Limiter limits sign-in attempts. It is safe for concurrent use.
type Limiter struct {
	now    func() time.Time
	mu     sync.Mutex
	emails *table
	addrs  *table
}

// New returns a Limiter. Settings below the least that still lets a
// person sign in (a burst of one, one attempt a day) are raised to it.
func New(cfg Config) *Limiter {
	cfg = cfg.WithDefaults()
	return &Limiter{
		now:    cfg.Now,
		emails: newTable(cfg.PerEmail, cfg.EmailBurst, cfg.MaxEntries),
		addrs:  newTable(cfg.PerAddr, cfg.AddrBurst, cfg.MaxEntries),
	}
}

// Allow records one attempt and reports whether it may go ahead; when not,
// how long to wait (for Retry-After). A refused attempt is not counted: it
// checks no password, so it gives a guesser nothing, and counting it would
// let anyone keep a victim's email locked by hammering it.
func (l *Limiter) Allow(email, addr string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.emails.reserve(normalizeEmail(email), now)
	a := l.addrs.reserve(normalizeAddr(addr), now)
	wait := max(e.DelayFrom(now), a.DelayFrom(now))
	if wait > 0 {
		e.CancelAt(now)
		a.CancelAt(now)
		return false, wait
	}
	return true, 0
}

// normalizeEmail is the key an email is limited under: trimmed and lower
// case, so case variants share one budget.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// normalizeAddr is the key a client address is limited under: the host
// without a port, and for IPv6 its /64, since one client commonly holds a
// whole /64 and could otherwise take a fresh address per attempt.
func normalizeAddr(addr string) string {
	addr = strings.TrimSpace(addr)
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return strings.ToLower(addr)
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}

// table is one set of token buckets by key, in least recently used order.
type table struct {
	limit rate.Limit
	burst int
	max   int
	lru   *list.List // of *entry, most recently used first
	byKey map[string]*list.Element
}

type entry struct {
	key string
	lim *rate.Limiter
}

func newTable(limit rate.Limit, burst, maxEntries int) *table {
	return &table{
		limit: max(limit, rate.Every(24*time.Hour)),
		burst: max(burst, 1),
		max:   max(maxEntries, 1),
		lru:   list.New(),
		byKey: make(map[string]*list.Element),
	}
}

// reserve takes one attempt from key's bucket; the reservation says how
// long it would have to wait, and can be cancelled.
func (t *table) reserve(key string, now time.Time) *rate.Reservation {
	t.evictIdle(now)
	el, ok := t.byKey[key]
	if ok {
		t.lru.MoveToFront(el)
	} else {
		el = t.lru.PushFront(&entry{key: key, lim: rate.NewLimiter(t.limit, t.burst)})
		t.byKey[key] = el
		for t.lru.Len() > t.max {
			t.remove(t.lru.Back())
		}
	}
	return el.Value.(*entry).lim.ReserveN(now, 1)
}

// evictIdle drops entries whose bucket is full, from the least recently
// used end. It stops at the first that is not, so each call costs no more
// than what it drops; an entry missed behind it goes once the entries
// before it refill, within one refill period (burst / limit).
func (t *table) evictIdle(now time.Time) {
	for el := t.lru.Back(); el != nil; el = t.lru.Back() {
		if el.Value.(*entry).lim.TokensAt(now) < float64(t.burst) {
			return
		}
		t.remove(el)
	}
}

func (t *table) remove(el *list.Element) {
	delete(t.byKey, el.Value.(*entry).key)
	t.lru.Remove(el)
}
