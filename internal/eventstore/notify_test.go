package eventstore

import "testing"

func TestWriteWatch(t *testing.T) {
	var w WriteWatch
	check := func(wantCount uint64, wantWatching bool) {
		t.Helper()
		if n, on := w.OtherWrites(); n != wantCount || on != wantWatching {
			t.Fatalf("OtherWrites() = %d, %v; want %d, %v", n, on, wantCount, wantWatching)
		}
	}
	check(0, false)
	w.Watching(true)
	check(1, true)
	w.Heard()
	w.Heard()
	check(3, true)
	w.Watching(false)
	check(4, false)
	w.Watching(true)
	check(5, true)
}
