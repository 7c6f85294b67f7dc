package sink

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"gocloud.dev/blob"

	"github.com/bluepoint/bluepoint/internal/archive"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/sinkconfig"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// archiveSink reads each of its streams in batches with a pull consumer
// that acknowledges all messages up to the last: a batch is acknowledged
// only after its objects are written, so no event is acknowledged before it
// is durable in the archive. A crash between the two writes the batch again
// (`bluepoint archive verify` reports such duplicates).
type archiveSink struct {
	cfg    Config
	sink   sinkconfig.Sink
	bucket *blob.Bucket
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newArchive(ctx context.Context, cfg Config, s sinkconfig.Sink) (*archiveSink, error) {
	b, err := archive.Open(ctx, s.URL)
	if err != nil {
		return nil, err
	}
	return &archiveSink{cfg: cfg, sink: s, bucket: b}, nil
}

func (a *archiveSink) start(ctx context.Context) error {
	ctx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, name := range a.sink.Streams {
		cons, err := a.cfg.Broker.JetStream().CreateOrUpdateConsumer(ctx, a.cfg.Broker.StreamName(name), jetstream.ConsumerConfig{
			Durable:       "sink-" + a.sink.Name,
			AckPolicy:     jetstream.AckAllPolicy,
			AckWait:       a.sink.Batch.MaxAge + time.Minute,
			MaxAckPending: 2 * a.sink.Batch.MaxEvents,
			DeliverPolicy: jetstream.DeliverAllPolicy,
		})
		if err != nil {
			a.cancel()
			return fmt.Errorf("archive sink %s: consumer on %s: %w", a.sink.Name, name, err)
		}
		w := &archive.Writer{Bucket: a.bucket, Format: a.sink.Format, MaxEvents: a.sink.Batch.MaxEvents,
			MaxBytes: int(a.sink.Batch.MaxBytes), MaxAge: a.sink.Batch.MaxAge,
			StreamOf: func(eventstore.Event) string { return name }}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.run(ctx, cons, w)
		}()
	}
	return nil
}

func (a *archiveSink) run(ctx context.Context, cons jetstream.Consumer, w *archive.Writer) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if err := a.batch(ctx, cons, w); err != nil {
			if ctx.Err() != nil {
				return
			}
			a.cfg.Logger.Warn("archive sink: batch failed; it will be delivered again", "sink", a.sink.Name, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

// batch fetches up to MaxEvents (waiting at most MaxAge), writes them and
// acknowledges the last message, which acknowledges the whole batch.
func (a *archiveSink) batch(ctx context.Context, cons jetstream.Consumer, w *archive.Writer) error {
	msgs, err := cons.Fetch(a.sink.Batch.MaxEvents, jetstream.FetchMaxWait(a.sink.Batch.MaxAge))
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	var (
		last  jetstream.Msg
		steps []eventstore.TraceStep
	)
	for msg := range msgs.Messages() {
		last = msg
		e, err := stream.Decode(msg.Data())
		if err != nil {
			a.cfg.Logger.Warn("archive sink: skipping a message that is not an event", "sink", a.sink.Name, "err", err)
			continue
		}
		if !wants(a.sink, e.Type) {
			continue
		}
		if _, err := w.Add(ctx, e); err != nil {
			return fmt.Errorf("add %s: %w", e.ID, err)
		}
		if e.Metadata.TraceID != "" {
			steps = append(steps, eventstore.TraceStep{TraceID: e.Metadata.TraceID, Step: "sink." + a.sink.Name, Status: "delivered", Detail: "archived"})
		}
	}
	if err := msgs.Error(); err != nil && last == nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if last == nil {
		return nil
	}
	if _, err := w.Flush(ctx); err != nil {
		return fmt.Errorf("write archive objects: %w", err)
	}
	if err := last.DoubleAck(ctx); err != nil {
		return fmt.Errorf("acknowledge batch: %w", err)
	}
	trace(ctx, a.cfg, steps)
	return nil
}

func (a *archiveSink) stop() error {
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
	return a.bucket.Close()
}
