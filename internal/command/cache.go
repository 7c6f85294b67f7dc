package command

import (
	"reflect"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// stateCache keeps recently folded aggregate states with the stream version
// they were folded at, so that a Load reads only the events appended since.
// It is only a head start: the append still checks every loaded stream's
// version, so an entry that fell behind the store costs a longer read, never
// a wrong decision.
//
// Entries are evicted least recently used first, so memory stays bounded by
// the number of entries whatever the number of aggregates. The mutex makes
// put's compare-and-set atomic. A nil *stateCache caches nothing.
type stateCache struct {
	mu  sync.Mutex
	lru *simplelru.LRU[cacheKey, cacheEntry]
}

// cacheKey names one kind of state folded over one stream: two aggregates
// with different state types or fold functions over the same stream must
// not read each other's states.
type cacheKey struct {
	stream string
	kind   stateKind
}

// stateKind identifies how a state is folded: its type and its functions.
type stateKind struct {
	typ             reflect.Type
	initial, evolve uintptr
}

type cacheEntry struct {
	state   any // never mutated: readers copy it before folding onto it
	version int64
}

// newStateCache returns a cache of at most max entries, or nil (no cache)
// when max is not positive.
func newStateCache(max int) *stateCache {
	lru, err := simplelru.NewLRU[cacheKey, cacheEntry](max, nil)
	if err != nil { // max <= 0
		return nil
	}
	return &stateCache{lru: lru}
}

// get returns the state cached under k and its version.
func (c *stateCache) get(k cacheKey) (any, int64, bool) {
	if c == nil {
		return nil, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(k)
	return e.state, e.version, ok
}

// put caches state at version under k, unless the entry already holds a
// newer version: concurrent sessions may finish their loads out of order,
// and the cache should not go back in time.
func (c *stateCache) put(k cacheKey, state any, version int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.lru.Get(k); ok && version < e.version {
		return
	}
	c.lru.Add(k, cacheEntry{state: state, version: version})
}

// drop forgets the state cached under k.
func (c *stateCache) drop(k cacheKey) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(k)
}

// dropStream forgets every state cached for a stream. It scans the whole
// cache, which is fine for what calls it: a cache found ahead of the store,
// which only a store restored from a backup (or a test) brings about.
func (c *stateCache) dropStream(stream string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.lru.Keys() {
		if k.stream == stream {
			c.lru.Remove(k)
		}
	}
}

// len returns the number of cached states.
func (c *stateCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
