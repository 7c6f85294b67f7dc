package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/nats-io/nats.go/jetstream"
)

// Handler processes one event. It returns nil only once its own work is
// durable (for a projection: its transaction committed), because returning
// nil acknowledges the message and it is never delivered to this consumer
// again; with ConsumerConfig.AckAfter, once its work is done, and the
// acknowledgement waits for AckAfter. An error retries the event with
// backoff.
type Handler func(ctx context.Context, e eventstore.Event, delivery Delivery) error

// BatchHandler handles several events at once, all or nothing: an error
// means none of them took effect. The events may come from any of the
// consumer's streams; each stream's are in that stream's order.
type BatchHandler func(ctx context.Context, events []eventstore.Event) error

// Delivery says where an event came from and how often it was tried.
type Delivery struct {
	// Attempt counts deliveries to this consumer, from 1.
	Attempt int
	// Stream is the stream the event came from (without the prefix).
	Stream string
	// Sequence is the message's sequence in that stream; a handler can use it
	// as its checkpoint.
	Sequence uint64
}

// Defaults of ConsumerConfig.
const (
	// DefaultMaxDeliver is how many times an event is tried before it is
	// parked in the dead-letter stream.
	DefaultMaxDeliver = 5
	// DefaultAckWait is how long a handler may run before JetStream assumes
	// the consumer died and delivers the event again.
	DefaultAckWait = 30 * time.Second
	// DeliverAll starts a new consumer at the beginning of its streams.
	DeliverAll = "all"
	// DeliverNew starts a new consumer with the events published after it.
	DeliverNew = "new"
)

// DefaultBackoff is the delay before each retry; the last delay repeats.
var DefaultBackoff = []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second, 5 * time.Second}

// ConsumerConfig describes a durable consumer.
type ConsumerConfig struct {
	// Name is the durable name, required. A consumer that starts again under
	// the same name resumes where it left off. It names the dead-letter
	// subject too, so it must be a valid subject token.
	Name string
	// Streams to consume, at least one; one durable consumer per stream.
	Streams []string
	// FilterTypes, when set, keeps only events of these types.
	FilterTypes []string
	// MaxDeliver is the number of attempts before an event is dead-lettered;
	// 0 means DefaultMaxDeliver (5).
	MaxDeliver int
	// Backoff are the delays before retries; empty means DefaultBackoff
	// (100ms, 500ms, 2s, 5s).
	Backoff []time.Duration
	// AckWait is how long a handler may take; 0 means DefaultAckWait (30s).
	AckWait time.Duration
	// DeliverFrom is where a new consumer starts: DeliverAll (the default) or
	// DeliverNew. It has no effect on a consumer that exists.
	DeliverFrom string
	// Concurrency is the number of events handled at once per stream. 1 (the
	// default) handles each stream's events one at a time, in order; more
	// gives up the order for throughput.
	Concurrency int
	// Batch, with a BatchHandler (ConsumeBatch), is the most events handed
	// over at once. Events wait for a batch only while the previous one is
	// being handled, so a quiet stream still sees each event at once.
	// 0 means DefaultBatch.
	Batch int
	// AckAfter (ConsumeBatch only), when set, is called before handled
	// events are acknowledged, once their handler has returned, and returns
	// when the handler's effects are durable (a database's asynchronous
	// commits flushed, say). Events handled while it runs wait for the next
	// call, so one call covers many batches. Until it succeeds they stay
	// unacknowledged, and a crash delivers them again: the handler must
	// make a second delivery harmless. Each call gets a third of AckWait;
	// Stop waits for the last one.
	AckAfter func(ctx context.Context) error
	// AckAfterEvery is how long a handled event waits for AckAfter at
	// least, so that one call covers the batches handled meanwhile: fewer
	// calls where each costs the database a flush.
	AckAfterEvery time.Duration
}

// DefaultBatch is ConsumerConfig.Batch's default.
const DefaultBatch = 100

// WithDefaults returns the config with every zero field set to its default.
func (c ConsumerConfig) WithDefaults() ConsumerConfig {
	if c.MaxDeliver == 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if len(c.Backoff) == 0 {
		c.Backoff = DefaultBackoff
	}
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if c.DeliverFrom == "" {
		c.DeliverFrom = DeliverAll
	}
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	return c
}

// Validate reports the first problem of a config (after WithDefaults).
func (c ConsumerConfig) Validate() error {
	if err := checkToken("consumer name", c.Name); err != nil {
		return err
	}
	if len(c.Streams) == 0 {
		return fmt.Errorf("stream: consumer %s has no streams", c.Name)
	}
	seen := map[string]bool{}
	for _, s := range c.Streams {
		if !isEventStream(s) || seen[s] {
			return fmt.Errorf("stream: consumer %s: %q is not an event stream or is listed twice", c.Name, s)
		}
		seen[s] = true
	}
	for _, t := range c.FilterTypes {
		if err := checkToken("filter type", t); err != nil {
			return err
		}
	}
	for _, d := range c.Backoff {
		if d < 0 {
			return fmt.Errorf("stream: consumer %s: negative backoff %s", c.Name, d)
		}
	}
	switch {
	case c.MaxDeliver < 1:
		return fmt.Errorf("stream: consumer %s: MaxDeliver %d is below 1", c.Name, c.MaxDeliver)
	case c.AckWait < time.Second:
		return fmt.Errorf("stream: consumer %s: AckWait %s is below 1s", c.Name, c.AckWait)
	case c.DeliverFrom != DeliverAll && c.DeliverFrom != DeliverNew:
		return fmt.Errorf("stream: consumer %s: DeliverFrom %q is neither %q nor %q", c.Name, c.DeliverFrom, DeliverAll, DeliverNew)
	case c.Concurrency < 1:
		return fmt.Errorf("stream: consumer %s: Concurrency %d is below 1", c.Name, c.Concurrency)
	case c.Batch < 1:
		return fmt.Errorf("stream: consumer %s: Batch %d is below 1", c.Name, c.Batch)
	}
	return nil
}

// Consumer is a running durable consumer.
type Consumer struct {
	b     *Broker
	cfg   ConsumerConfig
	h     Handler
	batch BatchHandler
	ctx   context.Context
	types map[string]bool // client-side filter when several types are wanted

	cons     map[string]jetstream.Consumer
	iters    []jetstream.MessagesContext
	stopping atomic.Bool
	stopOnce sync.Once
	readers  sync.WaitGroup
	workers  sync.WaitGroup
	done     chan struct{}
	acks     *acker // nil without AckAfter
}

// Consume creates (or updates) the durable consumer on each stream and calls
// h for its events until Stop, Broker.Close, or the end of ctx. h gets ctx.
func (b *Broker) Consume(ctx context.Context, cfg ConsumerConfig, h Handler) (*Consumer, error) {
	if h == nil {
		return nil, errors.New("stream: consume: nil handler")
	}
	if cfg.AckAfter != nil {
		// Held acknowledgements would widen the one-at-a-time window that
		// keeps a stream's order while an event is retried.
		return nil, fmt.Errorf("stream: consumer %s: AckAfter needs ConsumeBatch", cfg.Name)
	}
	return b.consume(ctx, cfg, h, nil)
}

// ConsumeBatch is Consume for a handler that takes several events at once:
// up to cfg.Batch events, those that arrived on any of the consumer's
// streams while the previous batch was handled. One handler call runs at a
// time for all the streams, so a read model that several streams feed
// applies them in one transaction at a time instead of one per stream, with
// none waiting on another's locks. It keeps each stream's order: a batch
// that fails is handled again one event at a time, and an event that keeps
// failing is retried (then parked) before any later event is handled.
func (b *Broker) ConsumeBatch(ctx context.Context, cfg ConsumerConfig, h BatchHandler) (*Consumer, error) {
	if h == nil {
		return nil, errors.New("stream: consume: nil handler")
	}
	cfg.Concurrency = 1
	one := func(ctx context.Context, e eventstore.Event, _ Delivery) error { return h(ctx, []eventstore.Event{e}) }
	return b.consume(ctx, cfg, one, h)
}

func (b *Broker) consume(ctx context.Context, cfg ConsumerConfig, h Handler, batch BatchHandler) (*Consumer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Consumer{b: b, cfg: cfg, h: h, batch: batch, ctx: ctx, cons: map[string]jetstream.Consumer{}, done: make(chan struct{})}
	if len(cfg.FilterTypes) > 1 {
		c.types = map[string]bool{}
		for _, t := range cfg.FilterTypes {
			c.types[t] = true
		}
	}
	for _, s := range cfg.Streams {
		cons, err := b.js.CreateOrUpdateConsumer(ctx, b.StreamName(s), c.jsConfig(s))
		if err != nil {
			return nil, fmt.Errorf("stream: consumer %s on %s: %w", cfg.Name, s, err)
		}
		c.cons[s] = cons
	}
	if err := b.track(c); err != nil {
		return nil, err
	}
	its := make([]jetstream.MessagesContext, 0, len(cfg.Streams))
	for _, s := range cfg.Streams {
		it, err := c.cons[s].Messages(jetstream.PullMaxMessages(c.inFlight()))
		if err != nil {
			for _, it := range its {
				it.Drain()
			}
			b.untrack(c)
			return nil, fmt.Errorf("stream: consumer %s on %s: %w", cfg.Name, s, err)
		}
		its = append(its, it)
	}
	c.iters = its
	if cfg.AckAfter != nil {
		c.acks = newAcker(ctx, cfg.AckAfter, cfg.AckWait/3, cfg.AckAfterEvery, cfg.Backoff)
	}
	if batch != nil {
		c.startBatches()
	} else {
		for i, s := range cfg.Streams {
			c.start(s, its[i])
		}
	}
	go func() {
		select {
		case <-ctx.Done():
			_ = c.Stop()
		case <-c.done:
		}
	}()
	return c, nil
}

// jsConfig is the JetStream consumer behind the consumer on one stream.
func (c *Consumer) jsConfig(stream string) jetstream.ConsumerConfig {
	jc := jetstream.ConsumerConfig{
		Durable:   c.cfg.Name,
		AckPolicy: jetstream.AckExplicitPolicy,
		AckWait:   c.cfg.AckWait,
		// The runtime counts attempts and dead-letters; the server never gives
		// up on its own, or a crash during the last attempt would lose the event.
		MaxDeliver: -1,
		// One unacknowledged message at a time keeps the stream's order even
		// while an event is being retried. A batch consumer holds a batch
		// unacknowledged, and never lets a later event overtake one that
		// failed (see handleBatch); meanwhile the next batch gathers.
		MaxAckPending: c.inFlight(),
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	if c.cfg.DeliverFrom == DeliverNew {
		jc.DeliverPolicy = jetstream.DeliverNewPolicy
	}
	if len(c.cfg.FilterTypes) == 1 {
		jc.FilterSubject = c.b.subject(stream, c.cfg.FilterTypes[0])
	}
	return jc
}

// inFlight is how many messages may be unacknowledged at once. A batch
// consumer may hold two batches: the one being handled and the next one
// gathering, so the server keeps delivering while a batch is applied and
// the next one is full, not a remainder, when the handler is free.
//
// Events waiting for AckAfter (batch consumers only) are unacknowledged
// too: room for two more batches keeps delivery going while they wait.
func (c *Consumer) inFlight() int {
	switch {
	case c.batch != nil && c.cfg.AckAfter != nil:
		return 4 * c.cfg.Batch
	case c.batch != nil:
		return 2 * c.cfg.Batch
	}
	return c.cfg.Concurrency
}

// Stop stops fetching, lets the handlers that run finish, returns fetched
// but unhandled events to the server at once, and waits (with AckAfter,
// also for one last call of it, to acknowledge what was handled). The durable
// consumers stay on the server, so a consumer started again with the same
// name resumes. Stop may be called more than once.
func (c *Consumer) Stop() error {
	c.stopOnce.Do(func() {
		c.stopping.Store(true)
		for _, it := range c.iters {
			it.Drain()
		}
		c.readers.Wait()
		c.workers.Wait()
		if c.acks != nil {
			c.acks.stop()
		}
		close(c.done)
		c.b.untrack(c)
	})
	return nil
}

// Lag returns, per stream, the events the consumer has not finished: not yet
// delivered plus delivered and not yet acknowledged.
func (c *Consumer) Lag(ctx context.Context) (map[string]uint64, error) {
	lag := make(map[string]uint64, len(c.cons))
	for s, cons := range c.cons {
		info, err := cons.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("stream: lag of consumer %s on %s: %w", c.cfg.Name, s, err)
		}
		lag[s] = info.NumPending + uint64(info.NumAckPending)
	}
	return lag, nil
}
