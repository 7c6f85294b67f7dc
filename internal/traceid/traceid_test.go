package traceid

import (
	"encoding/hex"
	"testing"
	"time"
)

func TestIDsBeginWithTheTimeAndEndRandom(t *testing.T) {
	before := time.Now().UnixMilli()
	a := String()
	time.Sleep(2 * time.Millisecond)
	b := String()
	after := time.Now().UnixMilli()
	for _, id := range []string{a, b} {
		raw, err := hex.DecodeString(id)
		if err != nil || len(raw) != 16 {
			t.Fatalf("%q: want 32 hex digits", id)
		}
		var ms int64
		for _, c := range raw[:6] {
			ms = ms<<8 | int64(c)
		}
		if ms < before || ms > after {
			t.Fatalf("%q begins with %d ms; want between %d and %d", id, ms, before, after)
		}
	}
	if !(a < b) {
		t.Fatalf("%s then %s: a later id must sort after", a, b)
	}
	// Ids made in the same millisecond differ in their random part.
	seen := map[string]bool{}
	for range 1000 {
		id := String()
		if seen[id] {
			t.Fatalf("%s made twice", id)
		}
		seen[id] = true
	}
}
