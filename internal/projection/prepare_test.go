package projection_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
)

// prepared is counts as a Preparer: Prepare decodes, the write adds. Its
// first write of a rebuild waits until the next batch has been prepared.
type prepared struct {
	counts
	prepares, batches *atomic.Int64
	// second is closed when Prepare is called the second time.
	second chan struct{}
}

func (p prepared) ApplyBatch(ctx context.Context, tx *projection.Tx, events []eventstore.Event) error {
	p.batches.Add(1)
	return projection.ApplyPrepared(ctx, tx, p.Prepare, events)
}

func (p prepared) Prepare(events []eventstore.Event) (projection.Prepared, error) {
	n := make([]int64, len(events))
	for i, e := range events {
		var d struct{ N int64 }
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		n[i] = d.N
	}
	nth := p.prepares.Add(1)
	if nth == 2 {
		close(p.second)
	}
	return func(ctx context.Context, tx *projection.Tx) error {
		if nth == 1 {
			select {
			case <-p.second:
			case <-time.After(10 * time.Second):
				return errors.New("the next batch was not prepared while the first was written")
			}
		}
		for i, e := range events {
			_, err := tx.Exec(ctx, `INSERT INTO {event_counts} (type, events, total) VALUES (?, 1, ?)
				ON CONFLICT (type) DO UPDATE SET events = {event_counts}.events + 1, total = {event_counts}.total + excluded.total`, e.Type, n[i])
			if err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// A rebuild prepares each batch of a Preparer before the one before it is
// written, and writes what it prepared rather than calling ApplyBatch.
func TestRebuildPreparesTheNextBatchAhead(t *testing.T) {
	forEachDB(t, func(t *testing.T, w *world) {
		p := prepared{prepares: new(atomic.Int64), batches: new(atomic.Int64), second: make(chan struct{})}
		r, err := projection.New(ctxT(t), projection.Config{DB: w.db, Store: w.store, Projections: []projection.Projection{p}})
		if err != nil {
			t.Fatal(err)
		}
		projection.SetRebuildBatch(r, 4)
		w.appendN(t, "Opened", 10)
		if err := r.Rebuild(ctxT(t), "counts", nil); err != nil {
			t.Fatal(err)
		}
		if events, total := w.count(t, "Opened"); events != 10 || total != 10 {
			t.Fatalf("after the rebuild: %d events, total %d; want 10 once each", events, total)
		}
		// Three batches of the ten events (4, 4, 2).
		if got := p.prepares.Load(); got != 3 {
			t.Fatalf("%d batches prepared, want 3", got)
		}
		if got := p.batches.Load(); got != 0 {
			t.Fatalf("the rebuild called ApplyBatch %d times", got)
		}
	})
}
