package stream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// deadLetterTimeout bounds parking one message, even while the consumer's
// context is ending: a message half parked would be handled again.
const deadLetterTimeout = 10 * time.Second

// nextWait bounds one wait for a message. The iterator asks the server for
// more only when Next is called; if a reply overtakes the bookkeeping of the
// request that fetched it (an in-process server answers that fast), a Next
// that waited forever would never ask again. Returning now and then makes it
// ask.
const nextWait = 250 * time.Millisecond

// streamMsg is a message with the stream it came from.
type streamMsg struct {
	stream string
	msg    jetstream.Msg
}

// startBatches runs a reader per stream, all feeding one batch worker. Each
// reader hands over its stream's messages in order, and the one worker
// applies them in the order handed over, so each stream's order holds.
func (c *Consumer) startBatches() {
	// The buffer is where the next batch gathers while one is handled.
	work := make(chan streamMsg, c.cfg.Batch)
	var readers sync.WaitGroup
	for i, s := range c.cfg.Streams {
		readers.Add(1)
		c.readers.Add(1)
		go func() {
			defer c.readers.Done()
			defer readers.Done()
			c.read(c.iters[i], func(m jetstream.Msg) { work <- streamMsg{s, m} })
		}()
	}
	go func() {
		readers.Wait()
		close(work)
	}()
	c.workers.Add(1)
	go func() {
		defer c.workers.Done()
		c.runBatches(work)
	}()
}

// start runs a reader that fetches a stream's messages and Concurrency
// workers that handle them. With one worker, the unbuffered hand-over keeps
// the stream's order.
func (c *Consumer) start(stream string, it jetstream.MessagesContext) {
	work := make(chan jetstream.Msg)
	c.readers.Add(1)
	go func() {
		defer c.readers.Done()
		defer close(work)
		c.read(it, func(m jetstream.Msg) { work <- m })
	}()
	for range c.cfg.Concurrency {
		c.workers.Add(1)
		go func() {
			defer c.workers.Done()
			for msg := range work {
				c.handle(stream, msg)
			}
		}()
	}
}

// read passes messages to the workers until the iterator is drained.
func (c *Consumer) read(it jetstream.MessagesContext, pass func(jetstream.Msg)) {
	pause := 50 * time.Millisecond
	for {
		msg, err := it.Next(jetstream.NextMaxWait(nextWait))
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return
		}
		if errors.Is(err, nats.ErrTimeout) {
			continue
		}
		if err != nil {
			// A missed heartbeat or a lost connection: the iterator recovers on
			// its own; do not spin meanwhile.
			select {
			case <-time.After(pause):
			case <-c.done:
				return
			}
			pause = min(2*pause, 2*time.Second)
			continue
		}
		pause = 50 * time.Millisecond
		pass(msg)
	}
}

// outcome is how handling one message ended.
type outcome int

const (
	settled   outcome = iota // acknowledged, skipped or parked
	retry                    // the handler failed; try again after a backoff
	cancelled                // the consumer is stopping; hand the message back
)

// handle runs the handler on one message and settles it: ack on success,
// retry later on failure, park it once it has used its attempts.
func (c *Consumer) handle(stream string, msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		_ = msg.Nak()
		return
	}
	attempt := int(md.NumDelivered)
	switch c.try(stream, msg, attempt, md.Sequence.Stream) {
	case retry:
		_ = msg.NakWithDelay(c.backoff(attempt))
	case cancelled:
		_ = msg.Nak()
	}
}

func (c *Consumer) backoff(attempt int) time.Duration {
	return c.cfg.Backoff[min(attempt-1, len(c.cfg.Backoff)-1)]
}

// try runs the handler on one message (sequence seq of its stream), as its
// attempt-th attempt, and acks
// or parks it unless it is to be retried or handed back. Ack, Nak and Term
// errors are left alone: an unsettled message comes back after AckWait,
// which is the safe outcome.
func (c *Consumer) try(stream string, msg jetstream.Msg, attempt int, seq uint64) outcome {
	if c.stopping.Load() {
		return cancelled // fetched after Stop: hand it back for the next run
	}
	e, skip, err := c.decode(msg)
	if skip {
		_ = msg.Ack()
		return settled
	}
	if err != nil {
		// Decoding fails the same way every time: park the message now.
		c.deadLetter(stream, msg, attempt, err)
		return settled
	}
	err = c.h(c.ctx, e, Delivery{Attempt: attempt, Stream: stream, Sequence: seq})
	switch {
	case err == nil:
		c.ack(msg)
		return settled
	case c.ctx.Err() != nil:
		return cancelled // the handler was cancelled, it did not fail
	case attempt >= c.cfg.MaxDeliver:
		c.deadLetter(stream, msg, attempt, err)
		return settled
	}
	return retry
}

// decode reads a message's event; skip says the consumer has nothing to do
// with it (a redrive meant for another consumer, a type it filters out).
func (c *Consumer) decode(msg jetstream.Msg) (e eventstore.Event, skip bool, err error) {
	if to := msg.Headers().Get(HeaderRedriveFor); to != "" && to != c.cfg.Name {
		return e, true, nil // a redrive for another consumer: this one handled it already
	}
	if e, err = Decode(msg.Data()); err != nil {
		return e, false, err
	}
	return e, c.types != nil && !c.types[e.Type], nil
}

// runBatches hands the batch handler what gathered in work while the
// previous batch was being handled.
func (c *Consumer) runBatches(work <-chan streamMsg) {
	for m := range work {
		msgs := []streamMsg{m}
	gather:
		for len(msgs) < c.cfg.Batch {
			select {
			case m, ok := <-work:
				if !ok {
					break gather
				}
				msgs = append(msgs, m)
			default:
				break gather
			}
		}
		c.handleBatch(msgs)
	}
}

// handleBatch applies msgs in one call of the batch handler. Anything
// unusual (a message to skip or park, a failed batch) falls back to one
// message at a time, in order.
func (c *Consumer) handleBatch(msgs []streamMsg) {
	if c.stopping.Load() {
		for _, m := range msgs {
			_ = m.msg.Nak()
		}
		return
	}
	events := make([]eventstore.Event, 0, len(msgs))
	for _, m := range msgs {
		e, skip, err := c.decode(m.msg)
		if skip || err != nil {
			c.oneByOne(msgs)
			return
		}
		events = append(events, e)
	}
	if err := c.batch(c.ctx, events); err == nil {
		for _, m := range msgs {
			c.ack(m.msg)
		}
		return
	}
	c.oneByOne(msgs)
}

// oneByOne handles msgs in order. A message whose handler fails is retried
// here, after its backoff, until it succeeds or is parked: handing it back
// to the server would let the later messages of the batch overtake it.
func (c *Consumer) oneByOne(msgs []streamMsg) {
	for i, m := range msgs {
		md, err := m.msg.Metadata()
		if err != nil {
			handBack(msgs[i:])
			return
		}
		for attempt := int(md.NumDelivered); ; attempt++ {
			o := c.try(m.stream, m.msg, attempt, md.Sequence.Stream)
			if o == settled {
				break
			}
			if o == cancelled {
				handBack(msgs[i:])
				return
			}
			// The messages still held must not time out and come back
			// meanwhile.
			for _, held := range msgs[i:] {
				_ = held.msg.InProgress()
			}
			select {
			case <-time.After(c.backoff(attempt)):
			case <-c.done:
				handBack(msgs[i:])
				return
			case <-c.ctx.Done():
				handBack(msgs[i:])
				return
			}
		}
	}
}

// handBack returns messages to the server for the next run, in order.
func handBack(msgs []streamMsg) {
	for _, m := range msgs {
		_ = m.msg.Nak()
	}
}

// deadLetter publishes the message with why it failed to the consumer's
// dead-letter subject and only then terminates it, so it is never lost; a
// crash in between parks it twice at worst, which the message id prevents
// within the duplicate window.
func (c *Consumer) deadLetter(stream string, msg jetstream.Msg, attempt int, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), deadLetterTimeout)
	defer cancel()
	md, _ := msg.Metadata() // checked by handle
	dl := nats.NewMsg(c.b.subject(DeadLetterStream, c.cfg.Name))
	dl.Data = msg.Data()
	dl.Header.Set(HeaderConsumer, c.cfg.Name)
	dl.Header.Set(HeaderError, headerValue(cause.Error()))
	dl.Header.Set(HeaderOriginalSubject, msg.Subject())
	dl.Header.Set(HeaderOriginalStream, stream)
	dl.Header.Set(HeaderAttempts, strconv.Itoa(attempt))
	dl.Header.Set(HeaderOriginalMsgID, originalMsgID(msg.Headers().Get(jetstream.MsgIDHeader)))
	var seq uint64
	if md != nil {
		seq = md.Sequence.Stream
		dl.Header.Set(HeaderOriginalSequence, strconv.FormatUint(seq, 10))
	}
	dl.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s.%s.%d", c.cfg.Name, stream, seq))
	if _, err := c.b.js.PublishMsg(ctx, dl, jetstream.WithExpectStream(c.b.StreamName(DeadLetterStream))); err != nil {
		_ = msg.NakWithDelay(c.cfg.Backoff[len(c.cfg.Backoff)-1])
		return
	}
	_ = msg.Term()
}

// headerValue makes an error message fit a header: one line, bounded.
func headerValue(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 1024 {
		s = strings.ToValidUTF8(s[:1024], "")
	}
	return s
}

// originalMsgID strips the redrive suffix from a message id, so a message
// parked again after a redrive keeps its event id.
func originalMsgID(id string) string {
	if i := strings.Index(id, redriveMarker); i >= 0 {
		return id[:i]
	}
	return id
}
