package eventstore

import (
	"sync"
	"sync/atomic"
)

// Notifier fans a "something committed" signal out to subscribers. Drivers
// embed it; signals coalesce so a slow subscriber never blocks a writer.
type Notifier struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

// Subscribe registers a subscriber. See Store.Subscribe.
func (n *Notifier) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	if n.subs == nil {
		n.subs = make(map[chan struct{}]struct{})
	}
	n.subs[ch] = struct{}{}
	n.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			n.mu.Lock()
			delete(n.subs, ch)
			n.mu.Unlock()
		})
	}
}

// Broadcast wakes every subscriber without blocking.
func (n *Notifier) Broadcast() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// OtherWriters is implemented by a store that hears of the commits of the
// other processes appending to it. A cache of stream states may then use
// what it folded without reading the store again, for as long as no other
// process committed: the appends of this process pass through it.
type OtherWriters interface {
	// OtherWrites returns a count that moves on whenever another process
	// commits, and whenever the store may have missed hearing of it (it
	// stopped listening). watching is false while it is not listening: then
	// nothing can be taken as current. Equal counts at two moments, both
	// watched, mean that no other process is known to have committed in
	// between; a commit is heard of a little after it happens, so this is a
	// hint, never a guarantee: an append still checks every version.
	OtherWrites() (count uint64, watching bool)
}

// WriteWatch is the bookkeeping of OtherWriters for drivers to embed.
type WriteWatch struct {
	// state is the count times two, plus one while watching: one word, so
	// that a reader never pairs a count with the flag of another moment.
	state atomic.Uint64
}

// OtherWrites implements OtherWriters.
func (w *WriteWatch) OtherWrites() (uint64, bool) {
	v := w.state.Load()
	return v >> 1, v&1 == 1
}

// Heard records another process's commit.
func (w *WriteWatch) Heard() { w.state.Add(2) }

// Watching records that the driver started or stopped listening; either
// way, what was current before is not any more.
func (w *WriteWatch) Watching(on bool) {
	for {
		old := w.state.Load()
		next := (old>>1 + 1) << 1
		if on {
			next |= 1
		}
		if w.state.CompareAndSwap(old, next) {
			return
		}
	}
}
