package demo

import (
	"sync/atomic"
	"time"
)

// clock is the simulated time the demo's service reads. The demo sets it
// before each step, so that what a step records carries a time in the
// simulated year rather than the few seconds the load really takes.
// Commands running concurrently within one step share its time.
type clock struct{ micros atomic.Int64 }

func (c *clock) set(t time.Time) { c.micros.Store(t.UnixMicro()) }

// now is the service's clock.
func (c *clock) now() time.Time { return time.UnixMicro(c.micros.Load()).UTC() }
