package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/outbox"
	"github.com/bluepoint/bluepoint/internal/stream"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func embedded(t *testing.T, dir string) *stream.Broker {
	t.Helper()
	b, err := stream.Open(ctxT(t), stream.Config{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// external opens the shared NATS with a prefix of its own and deletes its
// streams at the end.
func external(t *testing.T) *stream.Broker {
	t.Helper()
	url := testenv.NATS(t)
	prefix := "t" + strings.ReplaceAll(uuid.NewString()[:8], "-", "") + "_"
	b, err := stream.Open(ctxT(t), stream.Config{URL: url, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Every stream of the prefix, not a list that a new stream would outgrow.
		_ = stream.DeletePrefixed(context.Background(), url, prefix)
		b.Close()
	})
	return b
}

func startRelay(t *testing.T, s eventstore.Store, b *stream.Broker) *outbox.Relay {
	t.Helper()
	r := outbox.New(s, outbox.BrokerPublisher{Broker: b}, outbox.Config{PollInterval: 50 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err := r.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop(context.Background()) })
	return r
}

// appendEvents appends n events spread over a few account streams.
func appendEvents(t *testing.T, s eventstore.Store, streams []string, n int, trace string) []eventstore.Event {
	t.Helper()
	var out []eventstore.Event
	for i := 0; i < n; i++ {
		res, err := s.Append(ctxT(t), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{{
			StreamID: streams[i%len(streams)], Expected: eventstore.Any,
			Events: []eventstore.EventData{{Type: "PointsCredited", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
				Metadata: eventstore.Metadata{TraceID: trace}}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Events...)
	}
	return out
}

// streamEvents reads the users stream once all want messages are there.
func streamEvents(t *testing.T, b *stream.Broker, want int) []eventstore.Event {
	t.Helper()
	js := b.JetStream()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := js.Stream(ctxT(t), b.StreamName(stream.Users))
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if int(info.State.Msgs) >= want {
			if int(info.State.Msgs) > want {
				t.Fatalf("stream holds %d messages, want %d: duplicates were stored", info.State.Msgs, want)
			}
			return readAllMessages(t, js, st, want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream holds %d of %d messages", info.State.Msgs, want)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
}

func readAllMessages(t *testing.T, js jetstream.JetStream, st jetstream.Stream, n int) []eventstore.Event {
	t.Helper()
	c, err := st.OrderedConsumer(ctxT(t), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(n, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var out []eventstore.Event
	for m := range batch.Messages() {
		e, err := stream.Decode(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// checkExactlyOnceInOrder: every appended event once, each stream in version order.
func checkExactlyOnceInOrder(t *testing.T, appended, got []eventstore.Event) {
	t.Helper()
	want := map[uuid.UUID]bool{}
	for _, e := range appended {
		want[e.ID] = true
	}
	seen := map[uuid.UUID]bool{}
	last := map[string]int64{}
	for _, e := range got {
		if !want[e.ID] || seen[e.ID] {
			t.Fatalf("event %s unexpected or repeated", e.ID)
		}
		seen[e.ID] = true
		if e.StreamVersion != last[e.StreamID]+1 {
			t.Fatalf("%s: version %d after %d", e.StreamID, e.StreamVersion, last[e.StreamID])
		}
		last[e.StreamID] = e.StreamVersion
	}
	if len(seen) != len(want) {
		t.Fatalf("%d of %d events published", len(seen), len(want))
	}
}

func accountStreams(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "account-" + uuid.NewString()
	}
	return out
}

func TestRelayPublishesEveryEventOnceInOrder(t *testing.T) {
	for _, c := range []struct {
		name   string
		store  func(*testing.T, storetest.Options) eventstore.Store
		broker func(*testing.T) *stream.Broker
	}{
		{"sqlite+embedded", storetest.OpenSQLite, func(t *testing.T) *stream.Broker { return embedded(t, t.TempDir()) }},
		{"postgres+embedded", storetest.OpenPostgres, func(t *testing.T) *stream.Broker { return embedded(t, t.TempDir()) }},
		{"sqlite+external", storetest.OpenSQLite, external},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, b := c.store(t, storetest.Options{}), c.broker(t)
			streams := accountStreams(7)
			before := appendEvents(t, s, streams, 120, "tr-relay")
			startRelay(t, s, b)
			after := appendEvents(t, s, streams, 80, "tr-relay") // woken by commits
			checkExactlyOnceInOrder(t, append(before, after...), streamEvents(t, b, 200))
			// The relay marks a batch sent once the stream acknowledged all of
			// it, and records its steps after that: poll for both.
			deadline := time.Now().Add(30 * time.Second)
			for {
				pending, err := s.PendingOutbox(ctxT(t), 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(pending) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d rows still pending", len(pending))
				}
				time.Sleep(10 * time.Millisecond) // polling with a deadline
			}
			published := 0
			for published < 200 && time.Now().Before(deadline) {
				steps, _ := s.TraceSteps(ctxT(t), "tr-relay")
				published = 0
				for _, st := range steps {
					if st.Step == "relay" && st.Status == "published" {
						published += strings.Count(st.Detail, " to stream ")
					}
				}
				time.Sleep(10 * time.Millisecond) // polling with a deadline
			}
			if published != 200 {
				t.Fatalf("%d events in the relay's trace steps, want 200", published)
			}
		})
	}
}

// NATS stops while commands keep coming, then starts again: nothing is
// lost and nothing is stored twice.
func TestRelaySurvivesAStreamEngineOutage(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	srv := natsServer(t, dir, port)
	b, err := stream.Open(ctxT(t), stream.Config{URL: fmt.Sprintf("nats://127.0.0.1:%d", port)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := storetest.OpenSQLite(t, storetest.Options{})
	startRelay(t, s, b)
	streams := accountStreams(5)
	all := appendEvents(t, s, streams, 50, "")
	srv.Shutdown()
	srv.WaitForShutdown()
	all = append(all, appendEvents(t, s, streams, 50, "")...) // accepted while NATS is down
	srv = natsServer(t, dir, port)
	defer srv.Shutdown()
	all = append(all, appendEvents(t, s, streams, 50, "")...)
	checkExactlyOnceInOrder(t, all, streamEvents(t, b, 150))
}

func natsServer(t *testing.T, dir string, port int) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	return srv
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Two relays on one Postgres: one is active at a time, each event is
// published once, and the other takes over when the active one stops.
func TestTwoRelaysOnOnePostgres(t *testing.T) {
	url := testenv.Postgres(t)
	schema := storetest.NewSchema(t, url)
	if err := postgres.Migrate(ctxT(t), postgres.MigrateParams{URL: url, Schema: schema}); err != nil {
		t.Fatal(err)
	}
	open := func() eventstore.Store {
		s, err := postgres.Open(ctxT(t), postgres.Config{URL: url, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s1, s2 := open(), open()
	b := embedded(t, t.TempDir())
	r1, r2 := startRelay(t, s1, b), startRelay(t, s2, b)
	streams := accountStreams(6)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		all []eventstore.Event
	)
	stop := make(chan struct{})
	both := make(chan bool, 1)
	go func() { // never both active
		for {
			select {
			case <-stop:
				return
			default:
			}
			if r1.Active() && r2.Active() {
				both <- true
				return
			}
			time.Sleep(time.Millisecond) // sampling, not waiting for a condition
		}
	}()
	for _, s := range []eventstore.Store{s1, s2} {
		wg.Add(1)
		go func(s eventstore.Store) {
			defer wg.Done()
			evs := appendEvents(t, s, streams, 60, "")
			mu.Lock()
			all = append(all, evs...)
			mu.Unlock()
		}(s)
	}
	wg.Wait()
	checkExactlyOnceInOrder(t, all, streamEvents(t, b, 120))
	// Stop whichever is active; the other takes over.
	active, standby := r1, r2
	if r2.Active() {
		active, standby = r2, r1
	}
	if err := active.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	all = append(all, appendEvents(t, s1, streams, 30, "")...)
	checkExactlyOnceInOrder(t, all, streamEvents(t, b, 150))
	if !standby.Active() {
		t.Fatal("the standby relay did not take over")
	}
	close(stop)
	select {
	case <-both:
		t.Fatal("both relays were active at once")
	default:
	}
}

// JetStream acknowledges before it syncs: after an unclean stop it may have
// lost its last messages. A relay taking over publishes them again.
func TestRecoverRepublishesWhatTheStreamLost(t *testing.T) {
	s := storetest.OpenSQLite(t, storetest.Options{})
	first := embedded(t, t.TempDir())
	r := startRelay(t, s, first)
	evs := appendEvents(t, s, accountStreams(3), 40, "")
	streamEvents(t, first, 40)
	if err := r.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// A stream engine that lost everything: an empty store directory.
	lost := embedded(t, t.TempDir())
	startRelay(t, s, lost)
	checkExactlyOnceInOrder(t, evs, streamEvents(t, lost, 40))
}

// A stream engine that lost only its last messages gets those, read back
// from the newest sent rows, even when fewer rows are read back than are
// kept.
func TestRecoverRepublishesOnlyTheLostTail(t *testing.T) {
	s := storetest.OpenSQLite(t, storetest.Options{})
	first := embedded(t, t.TempDir())
	r := startRelay(t, s, first)
	evs := appendEvents(t, s, accountStreams(3), 120, "")
	streamEvents(t, first, 120)
	if err := r.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	lost := embedded(t, t.TempDir())
	pub := outbox.BrokerPublisher{Broker: lost}
	for _, e := range evs[:100] {
		if _, err := pub.Publish(ctxT(t), e); err != nil {
			t.Fatal(err)
		}
	}
	// 50 rows reach back past the stream's last message (the 100th of 120).
	cfg := outbox.Config{PollInterval: 50 * time.Millisecond, RecoverLimit: 50}
	r2 := outbox.New(s, pub, cfg)
	if err := r2.Recover(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnceInOrder(t, evs, streamEvents(t, lost, 120))

	// An engine that lost everything gets the newest RecoverLimit rows.
	empty := embedded(t, t.TempDir())
	if err := outbox.New(s, outbox.BrokerPublisher{Broker: empty}, cfg).Recover(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	got := streamEvents(t, empty, 50)
	for i, e := range got {
		if e.ID != evs[70+i].ID {
			t.Fatalf("message %d of the emptied engine is event %d's, want the %dth", i, e.StreamVersion, 70+i)
		}
	}
}

// stoppedMidway publishes through its Publisher, then holds the first
// publish's answer until the relay is stopped.
type stoppedMidway struct {
	outbox.Publisher // not a BatchPublisher: one Publish per event
	published        chan struct{}
	once             sync.Once
}

func (p *stoppedMidway) Publish(ctx context.Context, e eventstore.Event) (string, error) {
	stream, err := p.Publisher.Publish(context.WithoutCancel(ctx), e)
	p.once.Do(func() {
		close(p.published)
		<-ctx.Done()
	})
	return stream, err
}

// A relay stopped between a publish and its mark still marks the row sent:
// the next relay must not publish it again.
func TestStopAfterAPublishMarksItSent(t *testing.T) {
	s := storetest.OpenSQLite(t, storetest.Options{})
	appendEvents(t, s, accountStreams(1), 1, "")
	pub := &stoppedMidway{Publisher: outbox.BrokerPublisher{Broker: embedded(t, t.TempDir())}, published: make(chan struct{})}
	r := outbox.New(s, pub, outbox.Config{PollInterval: 50 * time.Millisecond})
	if err := r.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-pub.published:
	case <-time.After(30 * time.Second):
		t.Fatal("the relay published nothing")
	}
	if err := r.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	pending, err := s.PendingOutbox(ctxT(t), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 0 {
		t.Fatalf("%d published rows left unmarked after the stop", len(pending))
	}
}

// The active relay prunes trace steps older than TraceRetain.
func TestRelayPrunesOldTraceSteps(t *testing.T) {
	s := storetest.OpenSQLite(t, storetest.Options{})
	now := time.Now().UTC()
	if err := s.RecordTraceSteps(ctxT(t), []eventstore.TraceStep{
		{TraceID: "old", Step: "command.Old", Status: "applied", At: now.Add(-48 * time.Hour)},
		{TraceID: "young", Step: "command.Young", Status: "applied", At: now.Add(-time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	r := outbox.New(s, outbox.BrokerPublisher{Broker: embedded(t, t.TempDir())}, outbox.Config{TraceRetain: 24 * time.Hour})
	if err := r.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	defer r.Stop(context.Background())
	for deadline := time.Now().Add(30 * time.Second); ; {
		old, err := s.TraceSteps(ctxT(t), "old")
		if err != nil {
			t.Fatal(err)
		}
		if len(old) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the old trace step is still there")
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
	if young, err := s.TraceSteps(ctxT(t), "young"); err != nil || len(young) != 1 {
		t.Fatalf("young steps %d, %v; want 1 kept", len(young), err)
	}
}

// readCounter is a store that counts the relay's reads of the outbox that
// found rows: those of PendingOutbox and those made with a mark.
type readCounter struct {
	eventstore.Store
	mu               sync.Mutex
	alone, withMarks int
}

func (c *readCounter) PendingOutbox(ctx context.Context, limit int) ([]eventstore.OutboxEntry, error) {
	rows, err := c.Store.PendingOutbox(ctx, limit)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(rows) > 0 {
		c.alone++
	}
	return rows, err
}

func (c *readCounter) MarkSentThenPending(ctx context.Context, ids []int64, limit int) ([]eventstore.OutboxEntry, error) {
	rows, err := c.Store.MarkSentThenPending(ctx, ids, limit)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(rows) > 0 {
		c.withMarks++
	}
	return rows, err
}

// A backlog takes a round trip less a round: after the first round, each
// round's rows come with the mark of the round before.
func TestRelayReadsTheNextRoundWithTheMark(t *testing.T) {
	s := &readCounter{Store: storetest.OpenSQLite(t, storetest.Options{})}
	b := embedded(t, t.TempDir())
	before := appendEvents(t, s, accountStreams(3), 120, "")
	r := outbox.New(s, outbox.BrokerPublisher{Broker: b}, outbox.Config{BatchSize: 25, PollInterval: time.Hour})
	if err := r.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop(context.Background()) })
	checkExactlyOnceInOrder(t, before, streamEvents(t, b, 120))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.alone != 1 || s.withMarks != 4 {
		t.Fatalf("rounds read alone %d, with a mark %d; want 1 and 4 (120 rows, 25 a round)", s.alone, s.withMarks)
	}
}
