package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/bluepoint/bluepoint/internal/api/rest"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// opsReport answers the API's operations routes from the running stream
// engine and projection runner.
type opsReport struct {
	broker *stream.Broker
	runner *projection.Runner
}

func (a *App) ops() rest.Ops {
	if a.broker == nil {
		return nil
	}
	return opsReport{broker: a.broker, runner: a.projections}
}

func (o opsReport) Streams(ctx context.Context) (rest.StreamsReport, error) {
	js := o.broker.JetStream()
	r := rest.StreamsReport{Streams: []rest.StreamInfo{}, Consumers: []rest.ConsumerInfo{}, Projections: []projection.Status{}}
	// A NATS cluster may hold other deployments' streams: list ours, the
	// ones under this process's prefix.
	prefix := o.broker.StreamName("")
	streams := js.ListStreams(ctx)
	for info := range streams.Info() {
		if !strings.HasPrefix(info.Config.Name, prefix) {
			continue
		}
		st := info.State
		r.Streams = append(r.Streams, rest.StreamInfo{Name: info.Config.Name, Messages: st.Msgs, Bytes: st.Bytes,
			FirstSeq: st.FirstSeq, LastSeq: st.LastSeq, LastAt: st.LastTime, Consumers: st.Consumers})
	}
	if err := streams.Err(); err != nil {
		return r, fmt.Errorf("list streams: %w", err)
	}
	for _, si := range r.Streams {
		s, err := js.Stream(ctx, si.Name)
		if err != nil {
			return r, fmt.Errorf("stream %s: %w", si.Name, err)
		}
		consumers := s.ListConsumers(ctx)
		for ci := range consumers.Info() {
			r.Consumers = append(r.Consumers, rest.ConsumerInfo{Stream: ci.Stream, Name: ci.Name, Pending: ci.NumPending,
				AckPending: ci.NumAckPending, Redelivered: ci.NumRedelivered})
		}
		if err := consumers.Err(); err != nil {
			return r, fmt.Errorf("list consumers of %s: %w", si.Name, err)
		}
	}
	if o.runner != nil {
		ps, err := o.runner.Status(ctx)
		if err != nil {
			return r, err
		}
		r.Projections = ps
	}
	return r, nil
}

func (o opsReport) DeadLetters(ctx context.Context, p *stream.DeadLetterPageParams) ([]stream.DeadLetter, string, error) {
	return o.broker.DeadLetterPage(ctx, p)
}

func (o opsReport) Redrive(ctx context.Context, seq uint64) error {
	return o.broker.Redrive(ctx, seq)
}
