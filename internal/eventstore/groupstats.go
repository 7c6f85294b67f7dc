package eventstore

import "sync/atomic"

// GroupStats counts a store's group commit since it opened. Groups is how
// many times a writer took what had queued for it, Writes how many writes
// it took (appends, and on SQLite the other writes that share its queue):
// Writes/Groups is the mean group, which grows with the load. Fallbacks
// counts groups that failed before their commit and ran their appends one
// by one (Postgres).
type GroupStats struct {
	Groups, Writes, Fallbacks int64
}

// GroupCommitter is a Store that counts its group commit.
type GroupCommitter interface {
	GroupStats() GroupStats
}

// GroupCounter keeps GroupStats for a driver that embeds it; it is safe
// for concurrent use.
type GroupCounter struct {
	groups, writes, fallbacks atomic.Int64
}

// Took counts a group of n writes taken off the queue.
func (c *GroupCounter) Took(n int) {
	c.groups.Add(1)
	c.writes.Add(int64(n))
}

// FellBack counts a group that wrote nothing and ran its appends alone.
func (c *GroupCounter) FellBack() { c.fallbacks.Add(1) }

// GroupStats reports the counts so far.
func (c *GroupCounter) GroupStats() GroupStats {
	return GroupStats{Groups: c.groups.Load(), Writes: c.writes.Load(), Fallbacks: c.fallbacks.Load()}
}
