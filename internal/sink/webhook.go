package sink

import (
	"context"
	"errors"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/sinkconfig"
	"github.com/bluepoint/bluepoint/internal/stream"
	"github.com/bluepoint/bluepoint/internal/webhook"
)

// webhookSink POSTs each matching event as a signed CloudEvent. The
// consumer runtime retries with back-off and, after MaxAttempts, parks the
// event in the dead-letter stream.
type webhookSink struct {
	cfg      Config
	sink     sinkconfig.Sink
	sender   webhook.Sender
	consumer *stream.Consumer
}

func newWebhook(cfg Config, s sinkconfig.Sink) (*webhookSink, error) {
	secret := cfg.Getenv(s.SecretEnv)
	if secret == "" {
		return nil, fmt.Errorf("the secret variable %s is not set", s.SecretEnv)
	}
	return &webhookSink{cfg: cfg, sink: s, sender: webhook.Sender{Secret: []byte(secret), Timeout: s.Timeout}}, nil
}

func (w *webhookSink) start(ctx context.Context) error {
	c, err := w.cfg.Broker.Consume(ctx, stream.ConsumerConfig{
		Name:        "sink-" + w.sink.Name,
		Streams:     w.sink.Streams,
		FilterTypes: w.sink.Types,
		MaxDeliver:  w.sink.MaxAttempts,
	}, w.handle)
	if err != nil {
		return fmt.Errorf("webhook sink %s: %w", w.sink.Name, err)
	}
	w.consumer = c
	return nil
}

func (w *webhookSink) handle(ctx context.Context, e eventstore.Event, d stream.Delivery) error {
	body, err := stream.Encode(e, stream.DefaultSource)
	if err != nil {
		return err
	}
	_, err = w.sender.Send(ctx, w.sink.URL, e.ID.String(), d.Attempt, body)
	status := "delivered"
	detail := fmt.Sprintf("attempt %d", d.Attempt)
	switch {
	case err == nil:
	case d.Attempt >= w.sink.MaxAttempts:
		status, detail = "dead-lettered", fmt.Sprintf("attempt %d: %v", d.Attempt, err)
	case webhook.Retryable(err):
		status, detail = "retried", fmt.Sprintf("attempt %d: %v", d.Attempt, err)
	default:
		status, detail = "failed", fmt.Sprintf("attempt %d: %v", d.Attempt, err)
	}
	if e.Metadata.TraceID != "" {
		trace(ctx, w.cfg, []eventstore.TraceStep{{TraceID: e.Metadata.TraceID, Step: "sink." + w.sink.Name, Status: status, Detail: detail}})
	}
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.sink.Name, err)
	}
	return nil
}

func (w *webhookSink) stop() error {
	if w.consumer == nil {
		return nil
	}
	return errors.Join(w.consumer.Stop())
}
