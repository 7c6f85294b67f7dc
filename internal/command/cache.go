package command

import (
	"reflect"
	"slices"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// stateCache keeps recently folded aggregate states with the stream version
// they were folded at, so that a Load reads only the events appended since,
// or nothing at all while no other process writes to the store (see
// Session). It is only a head start: the append still checks every loaded
// stream's version, so an entry that fell behind the store costs a longer
// read or a retry, never a wrong decision.
//
// Entries are evicted least recently used first, so memory stays bounded by
// the number of entries whatever the number of aggregates. The mutex makes
// put's compare-and-set atomic. A nil *stateCache caches nothing.
type stateCache struct {
	mu  sync.Mutex
	lru *simplelru.LRU[cacheKey, cacheEntry]
	// kinds lists the kinds cached per stream, so that dropping a stream's
	// entries costs what it holds rather than a scan of the whole cache.
	kinds map[string][]stateKind
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
	// writes is the store's count of other processes' writes (see
	// eventstore.OtherWriters) from before the state was read or appended:
	// while the count has not moved, no other process is known to have
	// appended to the stream since.
	writes uint64
}

// newStateCache returns a cache of at most max entries, or nil (no cache)
// when max is not positive.
func newStateCache(max int) *stateCache {
	c := &stateCache{kinds: map[string][]stateKind{}}
	// Called, under mu, for every entry that leaves: evicted or removed.
	gone := func(k cacheKey, _ cacheEntry) {
		kinds := slices.DeleteFunc(c.kinds[k.stream], func(kind stateKind) bool { return kind == k.kind })
		if len(kinds) == 0 {
			delete(c.kinds, k.stream)
		} else {
			c.kinds[k.stream] = kinds
		}
	}
	lru, err := simplelru.NewLRU[cacheKey, cacheEntry](max, gone)
	if err != nil { // max <= 0
		return nil
	}
	c.lru = lru
	return c
}

// get returns the entry cached under k.
func (c *stateCache) get(k cacheKey) (cacheEntry, bool) {
	if c == nil {
		return cacheEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(k)
}

// put caches e under k, unless the entry already holds a newer version:
// concurrent sessions may finish their loads out of order, and the cache
// should not go back in time.
func (c *stateCache) put(k cacheKey, e cacheEntry) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.lru.Get(k)
	if ok && (e.version < old.version || e.version == old.version && e.writes < old.writes) {
		return
	}
	if !ok {
		c.kinds[k.stream] = append(c.kinds[k.stream], k.kind)
	}
	c.lru.Add(k, e)
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

// dropStream forgets every state cached for a stream.
func (c *stateCache) dropStream(stream string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, kind := range slices.Clone(c.kinds[stream]) {
		c.lru.Remove(cacheKey{stream: stream, kind: kind})
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
