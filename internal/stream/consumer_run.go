package stream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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

// start runs a reader that fetches a stream's messages and Concurrency
// workers that handle them. With one worker, the unbuffered hand-over keeps
// the stream's order.
func (c *Consumer) start(stream string, it jetstream.MessagesContext) {
	work := make(chan jetstream.Msg)
	c.readers.Add(1)
	go func() {
		defer c.readers.Done()
		defer close(work)
		c.read(it, work)
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
func (c *Consumer) read(it jetstream.MessagesContext, work chan<- jetstream.Msg) {
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
		work <- msg
	}
}

// handle runs the handler on one message and settles it: ack on success,
// retry later on failure, park it once it has used its attempts.
func (c *Consumer) handle(stream string, msg jetstream.Msg) {
	// Ack, Nak and Term errors are left alone: an unsettled message comes
	// back after AckWait, which is the safe outcome.
	if c.stopping.Load() {
		_ = msg.Nak() // fetched after Stop: hand it back for the next run
		return
	}
	md, err := msg.Metadata()
	if err != nil {
		_ = msg.Nak()
		return
	}
	attempt := int(md.NumDelivered)
	if to := msg.Headers().Get(HeaderRedriveFor); to != "" && to != c.cfg.Name {
		_ = msg.Ack() // a redrive for another consumer: this one handled it already
		return
	}
	e, err := Decode(msg.Data())
	if err != nil {
		// Decoding fails the same way every time: park the message now.
		c.deadLetter(stream, msg, attempt, err)
		return
	}
	if c.types != nil && !c.types[e.Type] {
		_ = msg.Ack()
		return
	}
	err = c.h(c.ctx, e, Delivery{Attempt: attempt, Stream: stream, Sequence: md.Sequence.Stream})
	switch {
	case err == nil:
		_ = msg.Ack()
	case c.ctx.Err() != nil:
		_ = msg.Nak() // the handler was cancelled, it did not fail
	case attempt >= c.cfg.MaxDeliver:
		c.deadLetter(stream, msg, attempt, err)
	default:
		_ = msg.NakWithDelay(c.cfg.Backoff[min(attempt-1, len(c.cfg.Backoff)-1)])
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
