package stream

import (
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/nats-io/nats.go/jetstream"
)

func TestStreamFor(t *testing.T) {
	for category, want := range map[string]string{
		"account": Users, "donation": Transactions, "giveaway": Transactions,
		"redemption": Transactions, "acquaintance": Transactions, "interaction": Transactions,
		"product": Catalog, "rule": Catalog, "activity": Activity,
	} {
		if got, ok := StreamFor(category); !ok || got != want {
			t.Errorf("StreamFor(%q) = %q, %v; want %q", category, got, ok, want)
		}
	}
	if _, ok := StreamFor("unknown"); ok {
		t.Error("StreamFor(unknown) is ok")
	}
	if got := Subject(Users, "AccountOpened"); got != "bluepoint.users.AccountOpened" {
		t.Errorf("Subject = %q", got)
	}
}

func TestPublish(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		e := newEvent(t, "account", "AccountOpened", 1)
		res, err := b.Publish(ctx, e)
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
		if res.Stream != Users || res.Sequence != 1 || res.Duplicate {
			t.Errorf("result = %+v", res)
		}
		s, err := b.JetStream().Stream(ctx, b.StreamName(Users))
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.GetMsg(ctx, res.Sequence)
		if err != nil {
			t.Fatal(err)
		}
		if want := b.cfg.Prefix + "bluepoint.users.AccountOpened"; m.Subject != want {
			t.Errorf("subject = %q, want %q", m.Subject, want)
		}
		if id := m.Header.Get(jetstream.MsgIDHeader); id != e.ID.String() {
			t.Errorf("message id = %q, want %q", id, e.ID)
		}
		got, err := Decode(m.Data)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		assertSameEvent(t, got, e)

		// The same event again is dropped, and stored once.
		res2, err := b.Publish(ctx, e)
		if err != nil {
			t.Fatalf("Publish again: %v", err)
		}
		if !res2.Duplicate || res2.Sequence != res.Sequence {
			t.Errorf("second result = %+v, want a duplicate of %d", res2, res.Sequence)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs != 1 {
			t.Errorf("stream holds %d messages, want 1", info.State.Msgs)
		}

		if _, err := b.Publish(ctx, newEvent(t, "nowhere", "Lost", 1)); err == nil {
			t.Error("Publish accepted an event whose category maps to no stream")
		}
		if _, err := b.Publish(ctx, newEvent(t, "account", "Bad.Type", 1)); err == nil {
			t.Error("Publish accepted an event type with a dot")
		}
	})
}

func TestLastEventID(t *testing.T) {
	forEachBroker(t, func(t *testing.T, b *Broker) {
		ctx := testCtx(t)
		if _, ok, err := b.LastEventID(ctx, Transactions); err != nil || ok {
			t.Fatalf("LastEventID of an empty stream = %v, %v", ok, err)
		}
		first, last := newEvent(t, "donation", "DonationMade", 1), newEvent(t, "giveaway", "GiveawayMade", 1)
		publish(t, b, first, last, newEvent(t, "account", "AccountOpened", 1))
		id, ok, err := b.LastEventID(ctx, Transactions)
		if err != nil || !ok || id != last.ID {
			t.Errorf("LastEventID = %v, %v, %v; want %v", id, ok, err, last.ID)
		}
		if _, _, err := b.LastEventID(ctx, "nope"); err == nil {
			t.Error("LastEventID accepted an unknown stream")
		}
	})
}

func TestEmbeddedRestartKeepsMessages(t *testing.T) {
	dir := t.TempDir()
	ctx := testCtx(t)
	b, err := Open(ctx, Config{StoreDir: dir})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	events := []eventstore.Event{newEvent(t, "product", "ProductListed", 1), newEvent(t, "rule", "RuleChanged", 1)}
	publish(t, b, events...)
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	b = openBroker(t, Config{StoreDir: dir})
	id, ok, err := b.LastEventID(ctx, Catalog)
	if err != nil || !ok || id != events[1].ID {
		t.Fatalf("LastEventID after restart = %v, %v, %v; want %v", id, ok, err, events[1].ID)
	}
	// The dedupe window survives the restart too.
	res, err := b.Publish(ctx, events[0])
	if err != nil || !res.Duplicate {
		t.Errorf("re-publish after restart = %+v, %v; want a duplicate", res, err)
	}
}

func TestConfigValidate(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no store dir":     {},
		"prefix with dot":  {StoreDir: "x", Prefix: "a.b"},
		"too many replica": {StoreDir: "x", Replicas: 9},
		"window over age":  {StoreDir: "x", MaxAge: 1, DuplicateWindow: 2},
	} {
		if err := cfg.WithDefaults().Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, cfg)
		}
	}
	if err := (Config{URL: "nats://x"}).WithDefaults().Validate(); err != nil {
		t.Errorf("external config: %v", err)
	}
}

func TestEmbeddedListens(t *testing.T) {
	b := openBroker(t, Config{StoreDir: t.TempDir(), Listen: "127.0.0.1:0"})
	url := b.ClientURL()
	if url == "" {
		t.Fatal("no client URL")
	}
	client := openBroker(t, Config{URL: url})
	e := newEvent(t, "account", "AccountOpened", 1)
	publish(t, client, e)
	if id, ok, err := b.LastEventID(testCtx(t), Users); err != nil || !ok || id != e.ID {
		t.Errorf("LastEventID = %v, %v, %v; want %v", id, ok, err, e.ID)
	}
	if u := openBroker(t, Config{StoreDir: t.TempDir()}).ClientURL(); u != "" {
		t.Errorf("ClientURL without Listen = %q", u)
	}
}
