package stream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// readyTimeout bounds how long Open waits for the embedded server.
const readyTimeout = 30 * time.Second

// publishAckTimeout bounds the wait for the acknowledgement of a message
// sent without waiting (PublishBatch), as the client bounds a synchronous
// publish: a reply lost with a connection must fail the publish, not leave
// it pending for ever.
const publishAckTimeout = 5 * time.Second

// Broker is the connection to the streams: an embedded JetStream server and
// its in-process connection, or a connection to an external server.
type Broker struct {
	cfg    Config
	srv    *server.Server // nil when external
	nc     *nats.Conn
	js     jetstream.JetStream
	closed chan struct{} // closed when nc is closed

	mu        sync.Mutex
	consumers map[*Consumer]struct{}
	closing   bool
}

// Open starts the embedded server (or connects to Config.URL), waits until it
// serves, and creates or updates the event streams and the dead-letter
// stream. Running it again against the same streams changes nothing, so every
// process of a deployment can call it on start.
func Open(ctx context.Context, cfg Config) (*Broker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := &Broker{cfg: cfg, closed: make(chan struct{}), consumers: map[*Consumer]struct{}{}}
	opts := []nats.Option{
		nats.Name("bluepoint"),
		nats.MaxReconnects(-1),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
	}
	url := cfg.URL
	if url == "" {
		srv, err := startEmbedded(cfg)
		if err != nil {
			return nil, err
		}
		b.srv = srv
		opts = append(opts, nats.InProcessServer(srv))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		b.shutdownServer()
		return nil, fmt.Errorf("stream: connect: %w", err)
	}
	b.nc = nc
	if b.js, err = jetstream.New(nc, jetstream.WithPublishAsyncTimeout(publishAckTimeout)); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("stream: jetstream: %w", err)
	}
	if err := b.ensureStreams(ctx); err != nil {
		_ = b.Close()
		return nil, err
	}
	return b, nil
}

// startEmbedded starts a JetStream server as the config describes and waits
// until it accepts connections.
func startEmbedded(cfg Config) (*server.Server, error) {
	opts := &server.Options{
		ServerName:         "bluepoint",
		JetStream:          true,
		StoreDir:           cfg.StoreDir,
		JetStreamMaxStore:  cfg.MaxStore,
		JetStreamMaxMemory: cfg.MaxMemory,
		NoSigs:             true,
		NoLog:              true,
		DontListen:         cfg.Listen == "",
	}
	if cfg.Listen != "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("stream: Listen %q: %w", cfg.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("stream: Listen %q: bad port", cfg.Listen)
		}
		if p == 0 {
			p = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, p
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("stream: embedded server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(readyTimeout) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, errors.New("stream: embedded server not ready in time")
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, errors.New("stream: embedded server started without JetStream")
	}
	return srv, nil
}

// ensureStreams creates the streams, or updates their settings to the config.
func (b *Broker) ensureStreams(ctx context.Context) error {
	for _, s := range append(append([]string(nil), eventStreams...), DeadLetterStream) {
		sc := jetstream.StreamConfig{
			Name:       b.StreamName(s),
			Subjects:   []string{b.subjectPrefix(s) + ">"},
			Storage:    jetstream.FileStorage,
			Retention:  jetstream.LimitsPolicy,
			Discard:    jetstream.DiscardOld,
			MaxAge:     b.cfg.MaxAge,
			Duplicates: b.cfg.DuplicateWindow,
			Replicas:   b.cfg.Replicas,
		}
		if s == DeadLetterStream {
			// Parked messages wait for a person: never age them out.
			sc.MaxAge = 0
		}
		if _, err := b.js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("stream: create or update stream %s: %w", sc.Name, err)
		}
	}
	return nil
}

// StreamName returns the JetStream name of a stream: the stream with the
// config's prefix. Use it when going to JetStream() directly.
func (b *Broker) StreamName(stream string) string { return b.cfg.Prefix + stream }

// subject returns the subject of an event type on a stream, with the prefix.
func (b *Broker) subject(stream, eventType string) string {
	return b.cfg.Prefix + Subject(stream, eventType)
}

// subjectPrefix returns "<prefix>bluepoint.<stream>.".
func (b *Broker) subjectPrefix(stream string) string {
	return b.cfg.Prefix + subjectRoot + "." + stream + "."
}

// JetStream returns the JetStream context, for what this package does not wrap.
func (b *Broker) JetStream() jetstream.JetStream { return b.js }

// ClientURL returns the URL other processes connect to: the embedded
// server's listening address, Config.URL for an external server, or "" for
// an embedded server without a port.
func (b *Broker) ClientURL() string {
	switch {
	case b.srv == nil:
		return b.cfg.URL
	case b.cfg.Listen == "":
		return ""
	default:
		return b.srv.ClientURL()
	}
}

// Conn returns the NATS connection.
func (b *Broker) Conn() *nats.Conn { return b.nc }

// Close stops the consumers still running, drains the connection (pending
// publishes and acknowledgements are flushed) and shuts the embedded server
// down cleanly, which writes its stores to disk.
func (b *Broker) Close() error {
	b.mu.Lock()
	b.closing = true
	consumers := make([]*Consumer, 0, len(b.consumers))
	for c := range b.consumers {
		consumers = append(consumers, c)
	}
	b.mu.Unlock()
	var errs []error
	for _, c := range consumers {
		errs = append(errs, c.Stop())
	}
	if b.nc != nil {
		if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, fmt.Errorf("stream: drain: %w", err))
		}
		select {
		case <-b.closed:
		case <-time.After(readyTimeout):
			b.nc.Close()
			errs = append(errs, errors.New("stream: drain timed out"))
		}
	}
	b.shutdownServer()
	return errors.Join(errs...)
}

func (b *Broker) shutdownServer() {
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}

// track registers a running consumer so Close can stop it; it fails once the
// broker is closing.
func (b *Broker) track(c *Consumer) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return errors.New("stream: broker is closed")
	}
	b.consumers[c] = struct{}{}
	return nil
}

func (b *Broker) untrack(c *Consumer) {
	b.mu.Lock()
	delete(b.consumers, c)
	b.mu.Unlock()
}
