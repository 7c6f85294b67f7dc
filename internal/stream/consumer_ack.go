package stream

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ack acknowledges a handled message: at once, or, with AckAfter, once
// AckAfter has said the handler's effects are durable.
func (c *Consumer) ack(msg jetstream.Msg) {
	if c.acks == nil {
		_ = msg.Ack()
		return
	}
	c.acks.add(msg)
}

// acker holds handled messages until AckAfter succeeds, then acknowledges
// them. It calls AckAfter only after the messages it covers were handed
// over, so their handlers' effects came before it.
type acker struct {
	ctx     context.Context
	durable func(context.Context) error
	// timeout bounds one call of durable: a third of AckWait, so that the
	// messages it covers are acknowledged (or kept in progress) before the
	// server would deliver them again.
	timeout time.Duration
	// every is the least time between the first message of a call and the
	// call, so that more batches share it.
	every    time.Duration
	backoff  []time.Duration
	wake     chan struct{}
	stopping chan struct{}
	done     chan struct{}

	mu      sync.Mutex
	pending []jetstream.Msg
}

func newAcker(ctx context.Context, durable func(context.Context) error, timeout, every time.Duration, backoff []time.Duration) *acker {
	a := &acker{ctx: context.WithoutCancel(ctx), durable: durable, timeout: timeout, every: every, backoff: backoff,
		wake: make(chan struct{}, 1), stopping: make(chan struct{}), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *acker) add(msg jetstream.Msg) {
	a.mu.Lock()
	a.pending = append(a.pending, msg)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// stop acknowledges what is still held (when AckAfter succeeds within its
// timeout; otherwise it hands it back to the server) and returns once done.
// Call it after the last add.
func (a *acker) stop() {
	close(a.stopping)
	<-a.done
}

func (a *acker) run() {
	defer close(a.done)
	for {
		select {
		case <-a.wake:
			// The messages handled while it waits go with this call.
			select {
			case <-time.After(a.every):
			case <-a.stopping:
			}
			a.flush(false)
		case <-a.stopping:
			a.flush(true)
			return
		}
	}
}

// flush acknowledges the messages held now once AckAfter succeeds, trying
// again after the consumer's backoffs while it fails. On the last flush it
// tries once: messages it cannot vouch for are handed back, to be handled
// again (harmlessly) on the next run.
func (a *acker) flush(last bool) {
	msgs := a.take(nil)
	if len(msgs) == 0 {
		return
	}
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(a.ctx, a.timeout)
		err := a.durable(ctx)
		cancel()
		if err == nil {
			for _, m := range msgs {
				_ = m.Ack()
			}
			return
		}
		if last {
			for _, m := range msgs {
				_ = m.Nak()
			}
			return
		}
		// Messages handled since are covered by the next call too. None of
		// the held messages may time out and come back meanwhile.
		msgs = a.take(msgs)
		for _, m := range msgs {
			_ = m.InProgress()
		}
		select {
		case <-time.After(a.backoff[min(attempt, len(a.backoff)-1)]):
		case <-a.stopping:
			last = true
		}
	}
}

// take appends the messages added since the last take to msgs.
func (a *acker) take(msgs []jetstream.Msg) []jetstream.Msg {
	a.mu.Lock()
	defer a.mu.Unlock()
	msgs = append(msgs, a.pending...)
	a.pending = nil
	return msgs
}
