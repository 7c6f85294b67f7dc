package stream

import (
	"context"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DeletePrefixed deletes the streams of the NATS server at url whose names
// start with prefix: what a deployment with that stream prefix made, for
// the benchmarks and tests that make throwaway deployments.
func DeletePrefixed(ctx context.Context, url, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("stream: delete streams: an empty prefix would delete every stream")
	}
	nc, err := nats.Connect(url)
	if err != nil {
		return fmt.Errorf("stream: delete streams: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("stream: delete streams: %w", err)
	}
	names := js.StreamNames(ctx)
	var doomed []string
	for n := range names.Name() {
		if strings.HasPrefix(n, prefix) {
			doomed = append(doomed, n)
		}
	}
	if err := names.Err(); err != nil {
		return fmt.Errorf("stream: list streams: %w", err)
	}
	for _, n := range doomed {
		if err := js.DeleteStream(ctx, n); err != nil {
			return fmt.Errorf("stream: delete stream %s: %w", n, err)
		}
	}
	return nil
}
