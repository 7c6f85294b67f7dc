package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/archive"
	"github.com/bluepoint/bluepoint/internal/config"
	"github.com/bluepoint/bluepoint/internal/sinkconfig"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// openBroker connects the operator's commands to the stream engine cfg
// selects. With the embedded default the server runs in this process on the
// same store, so a serve process must not be running at the same time; run
// serve with --nats-listen and pass --nats-url to work beside it.
func openBroker(ctx context.Context, cfg config.Config) (*stream.Broker, error) {
	b, err := stream.Open(ctx, stream.Config{URL: cfg.NATSURL, StoreDir: cfg.NATSStoreDir(), MaxAge: cfg.StreamMaxAge, Prefix: cfg.StreamPrefix})
	if err != nil {
		if cfg.NATSURL == "" {
			return nil, fmt.Errorf("open the embedded stream engine in %s (if serve is running, start it with --nats-listen and use --nats-url): %w", cfg.NATSStoreDir(), err)
		}
		return nil, fmt.Errorf("connect to the stream engine: %w", err)
	}
	return b, nil
}

// DeadLetters lists parked events ("" = every consumer).
func DeadLetters(ctx context.Context, cfg config.Config, consumer string, limit int) ([]stream.DeadLetter, error) {
	b, err := openBroker(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return b.DeadLetters(ctx, consumer, limit)
}

// Redrive delivers parked events again to the consumers that parked them.
func Redrive(ctx context.Context, cfg config.Config, seqs []uint64) error {
	b, err := openBroker(ctx, cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	var errs []error
	for _, seq := range seqs {
		if err := b.Redrive(ctx, seq); err != nil {
			errs = append(errs, fmt.Errorf("redrive %d: %w", seq, err))
		}
	}
	return errors.Join(errs...)
}

// VerifyArchiveParams says which archive to check.
type VerifyArchiveParams struct {
	Config config.Config
	// Sink names an archive sink of Config.SinksFile; its URL and streams
	// are used.
	Sink string
	// Progress is called as archive objects are read.
	Progress func(done, total int)
}

// VerifyArchive checks that an archive sink holds every event of the store
// of the streams it archives, once, as the store has it.
func VerifyArchive(ctx context.Context, p VerifyArchiveParams) (archive.Report, error) {
	if p.Config.SinksFile == "" {
		return archive.Report{}, errors.New("no bluepoint.yaml given (--config)")
	}
	f, err := sinkconfig.Load(p.Config.SinksFile)
	if err != nil {
		return archive.Report{}, err
	}
	var sink *sinkconfig.Sink
	for i := range f.Sinks {
		if f.Sinks[i].Name == p.Sink && f.Sinks[i].Type == sinkconfig.SinkArchive {
			sink = &f.Sinks[i]
		}
	}
	if sink == nil {
		return archive.Report{}, fmt.Errorf("%s declares no archive sink named %q", p.Config.SinksFile, p.Sink)
	}
	store, err := openStore(ctx, p.Config)
	if err != nil {
		return archive.Report{}, err
	}
	defer store.Close()
	bucket, err := archive.Open(ctx, sink.URL)
	if err != nil {
		return archive.Report{}, err
	}
	defer bucket.Close()
	streams := map[string][]string{}
	for _, s := range sink.Streams {
		streams[s] = stream.Categories(s)
	}
	return archive.Verify(ctx, bucket, store, archive.VerifyOptions{Streams: streams, Progress: p.Progress})
}
