package command

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

func key(stream string) cacheKey {
	return cacheKey{stream: stream, kind: stateKind{typ: reflect.TypeFor[int]()}}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newStateCache(3)
	for i := range 5 {
		c.put(key(fmt.Sprint("s-", i)), cacheEntry{state: i, version: int64(i)})
		if c.len() > 3 {
			t.Fatalf("after %d puts the cache holds %d entries, want at most 3", i+1, c.len())
		}
	}
	// s-2 is the oldest left; using it makes s-3 the one to go next.
	if _, ok := c.get(key("s-2")); !ok {
		t.Fatal("s-2 was evicted before s-3 and s-4")
	}
	c.put(key("s-5"), cacheEntry{state: 5, version: 5})
	for stream, want := range map[string]bool{"s-0": false, "s-1": false, "s-2": true, "s-3": false, "s-4": true, "s-5": true} {
		if _, ok := c.get(key(stream)); ok != want {
			t.Errorf("%s cached = %v, want %v", stream, ok, want)
		}
	}
}

func TestCacheNeverGoesBack(t *testing.T) {
	c := newStateCache(10)
	c.put(key("s"), cacheEntry{state: "new", version: 7, writes: 3})
	c.put(key("s"), cacheEntry{state: "old", version: 5, writes: 4}) // a session that read earlier finishes later
	if e, _ := c.get(key("s")); e.state != "new" || e.version != 7 {
		t.Fatalf("cached %v at %d, want new at 7", e.state, e.version)
	}
	// At one version, the entry stored after the most other writes is the
	// one that may be taken as current.
	c.put(key("s"), cacheEntry{state: "new", version: 7, writes: 2})
	if e, _ := c.get(key("s")); e.writes != 3 {
		t.Fatalf("an entry stored before other writes replaced one stored after them: writes %d, want 3", e.writes)
	}
	c.put(key("s"), cacheEntry{state: "new", version: 7, writes: 9})
	if e, _ := c.get(key("s")); e.writes != 9 {
		t.Fatalf("the entry stored after other writes was not kept: writes %d, want 9", e.writes)
	}
}

func TestCacheKeysKinds(t *testing.T) {
	c := newStateCache(10)
	a := cacheKey{stream: "s", kind: stateKind{typ: reflect.TypeFor[int](), evolve: 1}}
	b := cacheKey{stream: "s", kind: stateKind{typ: reflect.TypeFor[int](), evolve: 2}}
	c.put(a, cacheEntry{state: 1, version: 1})
	if _, ok := c.get(b); ok {
		t.Fatal("a state of another fold was served")
	}
	c.put(b, cacheEntry{state: 2, version: 1})
	c.put(key("other"), cacheEntry{state: 3, version: 1})
	c.dropStream("s")
	if c.len() != 1 {
		t.Fatalf("dropStream left %d entries, want the other stream's only", c.len())
	}
}

func TestNilCacheCachesNothing(t *testing.T) {
	var c *stateCache
	c.put(key("s"), cacheEntry{state: 1, version: 1})
	if _, ok := c.get(key("s")); ok || c.len() != 0 {
		t.Fatal("a nil cache cached")
	}
	if newStateCache(0) != nil || newStateCache(-1) != nil {
		t.Fatal("a cache of no entries was made")
	}
}

func TestIsPlain(t *testing.T) {
	type inner struct {
		At    time.Time
		Days  [3]struct{ Day, N int64 }
		Label string
	}
	type withMap struct{ M map[string]int }
	type withSlice struct{ S []int }
	type withPointer struct{ P *int }
	type withAny struct{ A any }
	type nested struct {
		inner
		W [1]withSlice
	}
	for _, c := range []struct {
		typ  reflect.Type
		want bool
	}{
		{reflect.TypeFor[int64](), true},
		{reflect.TypeFor[inner](), true},
		{reflect.TypeFor[[0]map[int]int](), true},
		{reflect.TypeFor[withMap](), false},
		{reflect.TypeFor[withSlice](), false},
		{reflect.TypeFor[withPointer](), false},
		{reflect.TypeFor[withAny](), false},
		{reflect.TypeFor[nested](), false},
	} {
		if got := isPlain(c.typ); got != c.want {
			t.Errorf("isPlain(%s) = %v, want %v", c.typ, got, c.want)
		}
	}
}

type cloned struct{ m map[string]int }

func (c cloned) Clone() cloned {
	m := make(map[string]int, len(c.m))
	for k, v := range c.m {
		m[k] = v
	}
	return cloned{m: m}
}

func TestCopyFunc(t *testing.T) {
	if _, ok := copyFunc[struct{ M map[string]int }](nil); ok {
		t.Error("a state holding a map without a Clone is copyable")
	}
	cp, ok := copyFunc[cloned](nil)
	if !ok {
		t.Fatal("a state with a Clone method is not copyable")
	}
	orig := cloned{m: map[string]int{"a": 1}}
	cp(orig).m["a"] = 2
	if orig.m["a"] != 1 {
		t.Error("the Clone method was not used")
	}
	calls := 0
	cp, _ = copyFunc(func(c cloned) cloned { calls++; return c })
	cp(orig)
	if calls != 1 {
		t.Error("the Aggregate's Clone was not preferred")
	}
}
