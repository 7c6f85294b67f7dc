package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

func testGlobalOrderAndFilters(t *testing.T, h Harness) {
	s := h.Open(t, Options{})
	var appended []eventstore.Event
	for i := 0; i < 30; i++ {
		cat := []string{"account", "product", "rule"}[i%3]
		typ := []string{"Opened", "Changed"}[i%2]
		res := appendOne(t, s, newStream(cat), eventstore.NoStream, ev(typ, i))
		appended = append(appended, res.Events...)
	}
	for _, limit := range []int{0, 1, 7} {
		all := readAll(t, s, eventstore.ReadAllParams{Limit: limit})
		if len(all) != len(appended) {
			t.Fatalf("limit %d: read %d events, want %d", limit, len(all), len(appended))
		}
		for i := range all {
			sameEvent(t, all[i], appended[i])
		}
	}
	accounts := readAll(t, s, eventstore.ReadAllParams{Categories: []string{"account"}, Limit: 4})
	if len(accounts) != 10 {
		t.Fatalf("category filter: %d events, want 10", len(accounts))
	}
	for _, e := range accounts {
		if e.Category() != "account" {
			t.Fatalf("category filter let through %s", e.StreamID)
		}
	}
	two := readAll(t, s, eventstore.ReadAllParams{Categories: []string{"account", "rule"}, Types: []string{"Opened"}})
	for _, e := range two {
		if e.Type != "Opened" || e.Category() == "product" {
			t.Fatalf("filters let through %s %s", e.StreamID, e.Type)
		}
	}
	if len(two) != 10 { // i%2==0 and i%3 in {0,2}: 10 of 30
		t.Fatalf("category+type filter: %d events, want 10", len(two))
	}
	after := readAll(t, s, eventstore.ReadAllParams{After: appended[19].Position})
	if len(after) != 10 || after[0].ID != appended[20].ID {
		t.Fatalf("read after position 20: %d events", len(after))
	}
}

// Writers hold some transactions open before committing while a reader
// follows the log. The reader must end up with every event exactly once, in
// a stable order: on Postgres a naive reader by position skips the events of
// a transaction that commits after a later position became visible.
func testLateCommitNeverSkipped(t *testing.T, h Harness) {
	var delayed atomic.Int64
	s := h.Open(t, Options{BeforeCommit: func(ctx context.Context) {
		// Every third transaction lingers, long enough for others to commit past it.
		if delayed.Add(1)%3 == 0 {
			select {
			case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}})
	const writers, perWriter = 8, 25
	var (
		wg        sync.WaitGroup
		committed sync.Map // event id -> true
		stop      = make(chan struct{})
		readerErr = make(chan error, 1)
		seen      = map[uuid.UUID]int{}
		order     []eventstore.Event
		head      uuid.UUID // set before stop closes
	)
	go func() { // the follower
		var after eventstore.Position
		stopping, stoppedAt := false, time.Time{}
		for {
			batch, err := s.ReadAll(context.Background(), &eventstore.ReadAllParams{After: after, Limit: 50})
			if err != nil {
				readerErr <- err
				return
			}
			for _, e := range batch {
				seen[e.ID]++
				order = append(order, e)
			}
			if len(batch) > 0 {
				after = batch[len(batch)-1].Position
				continue
			}
			if stopping && seen[head] > 0 { // every writer finished, and the log is read up to its head
				readerErr <- nil
				return
			}
			if stopping && time.Since(stoppedAt) > time.Minute {
				readerErr <- fmt.Errorf("the follower never reached the head %s", head)
				return
			}
			select {
			case <-stop:
				stopping, stoppedAt = true, time.Now()
			default:
			}
		}
	}()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				res, err := s.Append(context.Background(), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
					{StreamID: newStream("account"), Expected: eventstore.NoStream, Events: []eventstore.EventData{ev("Late", w*1000+i)}}}})
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				committed.Store(res.Events[0].ID, true)
			}
		}(w)
	}
	wg.Wait()
	// Everything is committed now: the follower stops once it has read the
	// head. An empty batch alone is not the end: on Postgres it only says
	// that an older transaction somewhere may still be running.
	var err error
	head, _, err = s.Head(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	close(stop)
	if err := <-readerErr; err != nil {
		t.Fatalf("follower: %v", err)
	}
	missing := 0
	committed.Range(func(k, _ any) bool {
		if seen[k.(uuid.UUID)] != 1 {
			missing++
		}
		return true
	})
	if missing > 0 || len(order) != writers*perWriter {
		t.Fatalf("follower saw %d events, %d committed events missing or repeated (of %d)", len(order), missing, writers*perWriter)
	}
	for i := 1; i < len(order); i++ {
		if !order[i-1].Position.Less(order[i].Position) {
			t.Fatalf("follower order not increasing at %d: %+v then %+v", i, order[i-1].Position, order[i].Position)
		}
	}
	// A second reader from the start sees the same order: the log is stable.
	again := readAll(t, s, eventstore.ReadAllParams{})
	for i := range again {
		if again[i].ID != order[i].ID {
			t.Fatalf("log order changed at %d", i)
		}
	}
	if h.ConcurrentCommits && delayed.Load() == 0 {
		t.Fatalf("BeforeCommit hook never ran: the test proved nothing")
	}
}

// Concurrent appends to shared streams with Any and exact versions: within
// every stream, the global log must list versions in order.
func testStreamOrderInGlobalLog(t *testing.T, h Harness) {
	s := h.Open(t, Options{BeforeCommit: func(ctx context.Context) {
		if rand.IntN(4) == 0 {
			time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
		}
	}})
	streams := []string{newStream("account"), newStream("account"), newStream("account")}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				a, b := streams[rand.IntN(3)], streams[rand.IntN(3)]
				p := &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
					{StreamID: a, Expected: eventstore.Any, Events: []eventstore.EventData{ev("Any", i)}}}}
				if b != a {
					p.Streams = append(p.Streams, eventstore.StreamAppend{StreamID: b, Expected: eventstore.Any, Events: []eventstore.EventData{ev("Any", i)}})
				}
				if _, err := s.Append(context.Background(), p); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	last := map[string]int64{}
	for _, e := range readAll(t, s, eventstore.ReadAllParams{}) {
		if e.StreamVersion != last[e.StreamID]+1 {
			t.Fatalf("global log lists %s version %d after version %d", e.StreamID, e.StreamVersion, last[e.StreamID])
		}
		last[e.StreamID] = e.StreamVersion
	}
	total := int64(0)
	for _, v := range last {
		total += v
	}
	if total == 0 {
		t.Fatal("nothing was appended")
	}
}
