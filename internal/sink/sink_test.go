package sink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/archive"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/outbox"
	"github.com/bluepoint/bluepoint/internal/sink"
	"github.com/bluepoint/bluepoint/internal/sinkconfig"
	"github.com/bluepoint/bluepoint/internal/stream"
	"github.com/bluepoint/bluepoint/internal/webhook/webhooktest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// world is a store, an embedded stream engine and a relay between them.
func world(t *testing.T) (eventstore.Store, *stream.Broker) {
	t.Helper()
	s := storetest.OpenSQLite(t, storetest.Options{})
	b, err := stream.Open(ctxT(t), stream.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	r := outbox.New(s, outbox.BrokerPublisher{Broker: b}, outbox.Config{PollInterval: 50 * time.Millisecond})
	if err := r.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop(context.Background()) })
	return s, b
}

func runSinks(t *testing.T, s eventstore.Store, b *stream.Broker, yaml string, env map[string]string) {
	t.Helper()
	f, err := sinkconfig.Parse("bluepoint.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	r, err := sink.New(ctxT(t), sink.Config{Broker: b, Store: s, Sinks: f.Sinks, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop(context.Background()) })
}

func appendEvent(t *testing.T, s eventstore.Store, stream, typ, trace string, i int) eventstore.Event {
	t.Helper()
	res, err := s.Append(ctxT(t), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{{
		StreamID: stream, Expected: eventstore.Any,
		Events: []eventstore.EventData{{Type: typ, Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)), Metadata: eventstore.Metadata{TraceID: trace}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Events[0]
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond) // polling with a deadline
	}
}

// Every event of the store lands in the archive, once, and verify agrees.
func TestArchiveSink(t *testing.T) {
	s, b := world(t)
	dir := t.TempDir()
	runSinks(t, s, b, fmt.Sprintf(`
version: 1
sinks:
  - name: lake
    type: archive
    url: file://%s
    format: ndjson
    batch: {max_events: 10, max_age: 200ms}
`, dir), nil)
	for i := 0; i < 35; i++ {
		cat := []string{"account", "product", "donation"}[i%3]
		appendEvent(t, s, cat+"-"+uuid.NewString(), "Something", "tr-archive", i)
	}
	bucket, err := archive.Open(ctxT(t), "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	var rep archive.Report
	eventually(t, "the archive to hold every event", func() bool {
		rep, err = archive.Verify(ctxT(t), bucket, s, archive.VerifyOptions{})
		return err == nil && rep.OK()
	})
	if rep.StoreEvents != 35 || rep.ArchivedEvents != 35 {
		t.Fatalf("report %+v", rep)
	}
	keys, _ := archive.List(ctxT(t), bucket, "stream=transactions/")
	if len(keys) == 0 {
		t.Fatal("no object under stream=transactions/")
	}
	// The sink records its steps after acknowledging the batch: poll.
	archived := 0
	eventually(t, "35 archive trace steps", func() bool {
		steps, _ := s.TraceSteps(ctxT(t), "tr-archive")
		archived = 0
		for _, st := range steps {
			if st.Step == "sink.lake" && st.Status == "delivered" {
				archived++
			}
		}
		return archived >= 35
	})
	if archived != 35 {
		t.Fatalf("%d archive trace steps, want 35", archived)
	}
}

// A receiver that checks signatures and fails its first calls gets every
// event, in order, with the attempts recorded in the trace.
func TestWebhookSinkRetries(t *testing.T) {
	s, b := world(t)
	rcv := webhooktest.New(t, []byte("s3cret"))
	rcv.FailFirst(2, http.StatusServiceUnavailable)
	runSinks(t, s, b, fmt.Sprintf(`
version: 1
sinks:
  - name: partner
    type: webhook
    url: %s
    secret_env: PARTNER_SECRET
    types: [DonationMade]
    max_attempts: 5
`, rcv.URL()), map[string]string{"PARTNER_SECRET": "s3cret"})
	var want []eventstore.Event
	for i := 0; i < 3; i++ {
		want = append(want, appendEvent(t, s, "donation-"+uuid.NewString(), "DonationMade", "tr-hook", i))
		appendEvent(t, s, "account-"+uuid.NewString(), "PointsCredited", "tr-hook", i) // filtered out
	}
	got := rcv.WaitFor(t, 3, 60*time.Second)
	for i, c := range got {
		if c.EventID != want[i].ID.String() {
			t.Fatalf("delivery %d is %s, want %s", i, c.EventID, want[i].ID)
		}
	}
	if got[0].Attempt != 3 {
		t.Fatalf("first event delivered on attempt %d, want 3", got[0].Attempt)
	}
	// The sink records its step after the receiver answered: poll.
	var statuses []string
	eventually(t, "the sink's trace steps", func() bool {
		statuses = nil
		steps, _ := s.TraceSteps(ctxT(t), "tr-hook")
		for _, st := range steps {
			if st.Step == "sink.partner" {
				statuses = append(statuses, st.Status)
			}
		}
		return len(statuses) >= 5
	})
	if fmt.Sprint(statuses) != "[retried retried delivered delivered delivered]" {
		t.Fatalf("trace %v", statuses)
	}
}

// A webhook that keeps refusing parks the event in the dead-letter stream.
func TestWebhookSinkDeadLetters(t *testing.T) {
	s, b := world(t)
	rcv := webhooktest.New(t, []byte("s3cret"))
	rcv.FailFirst(100, http.StatusBadRequest)
	runSinks(t, s, b, fmt.Sprintf(`
version: 1
sinks:
  - name: broken
    type: webhook
    url: %s
    secret_env: SECRET
    max_attempts: 2
`, rcv.URL()), map[string]string{"SECRET": "s3cret"})
	e := appendEvent(t, s, "account-"+uuid.NewString(), "AccountOpened", "tr-dlq", 1)
	eventually(t, "a dead letter", func() bool {
		dl, err := b.DeadLetters(ctxT(t), "sink-broken", 10)
		return err == nil && len(dl) == 1 && dl[0].Event.ID == e.ID
	})
}
