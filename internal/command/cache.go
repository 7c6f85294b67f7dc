package command

import (
	"container/list"
	"reflect"
	"sync"
)

// stateCache keeps recently folded aggregate states with the stream version
// they were folded at, so that a Load reads only the events appended since.
// It is only a head start: the append still checks every loaded stream's
// version, so an entry that fell behind the store costs a longer read, never
// a wrong decision.
//
// Entries are evicted least recently used first, so memory stays bounded by
// the number of entries whatever the number of aggregates. A nil *stateCache
// caches nothing.
type stateCache struct {
	mu      sync.Mutex
	max     int
	entries map[cacheKey]*list.Element
	order   list.List // of *cacheEntry, most recently used first
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
	key     cacheKey
	state   any // never mutated: readers copy it before folding onto it
	version int64
}

// newStateCache returns a cache of at most max entries, or nil (no cache)
// when max is not positive.
func newStateCache(max int) *stateCache {
	if max <= 0 {
		return nil
	}
	return &stateCache{max: max, entries: make(map[cacheKey]*list.Element)}
}

// get returns the state cached under k and its version.
func (c *stateCache) get(k cacheKey) (any, int64, bool) {
	if c == nil {
		return nil, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[k]
	if el == nil {
		return nil, 0, false
	}
	c.order.MoveToFront(el)
	e := el.Value.(*cacheEntry)
	return e.state, e.version, true
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
	if el := c.entries[k]; el != nil {
		c.order.MoveToFront(el)
		if e := el.Value.(*cacheEntry); version >= e.version {
			e.state, e.version = state, version
		}
		return
	}
	c.entries[k] = c.order.PushFront(&cacheEntry{key: k, state: state, version: version})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry).key)
	}
}

// drop forgets the state cached under k.
func (c *stateCache) drop(k cacheKey) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.entries[k]; el != nil {
		c.order.Remove(el)
		delete(c.entries, k)
	}
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
	for k, el := range c.entries {
		if k.stream == stream {
			c.order.Remove(el)
			delete(c.entries, k)
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
	return c.order.Len()
}
