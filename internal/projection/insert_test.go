package projection_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/projection/projectiontest"
)

// lines is a test read model written with InsertEach: a row per event,
// made only when the insert asks for it. fail, when set, refuses to make
// the row of an event.
type lines struct {
	fail     func(eventstore.Event) bool
	notAlone *atomic.Int64 // counts batches that did not run alone
}

var errRefused = errors.New("refused to make the row")

func (lines) Name() string         { return "lines" }
func (lines) Categories() []string { return []string{"account"} }
func (lines) Tables() []string     { return []string{"lines"} }
func (lines) Create(projection.Dialect) []string {
	return []string{`CREATE TABLE {lines} (pos BIGINT PRIMARY KEY, stream_id TEXT NOT NULL, nth BIGINT NOT NULL)`}
}
func (l lines) Apply(ctx context.Context, tx *projection.Tx, e eventstore.Event) error {
	return l.ApplyBatch(ctx, tx, []eventstore.Event{e})
}
func (l lines) ApplyBatch(ctx context.Context, tx *projection.Tx, events []eventstore.Event) error {
	if !tx.Alone() && l.notAlone != nil {
		l.notAlone.Add(1)
	}
	i := 0
	return tx.InsertEach(ctx, "lines", []string{"pos", "stream_id", "nth"}, func() ([]any, error) {
		if i == len(events) {
			return nil, nil
		}
		e := events[i]
		i++
		if l.fail != nil && l.fail(e) {
			return nil, errRefused
		}
		return []any{int64(e.Position.Global), e.StreamID, int64(i)}, nil
	})
}

// A rebuild writes with COPY on Postgres, where InsertEach streams the rows
// as they are made; elsewhere it gathers them into one insert. Either way
// every event gets its row, in order, and a row that cannot be made fails
// the rebuild, which then leaves the read model as it was.
func TestInsertEachRowsInOrder(t *testing.T) {
	projectiontest.ForEachEngine(t, func(t *testing.T, s eventstore.Store, db *projection.DB) {
		var want []string
		var bad eventstore.Event
		for i := range 40 {
			res, err := s.Append(ctxT(t), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
				{StreamID: "account-" + uuid.NewString(), Expected: eventstore.NoStream,
					Events: []eventstore.EventData{{Type: "Opened", Data: json.RawMessage(`{}`)}}}}})
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, res.Events[0].StreamID)
			if i == 25 {
				bad = res.Events[0]
			}
		}
		var notAlone atomic.Int64
		r, err := projection.New(ctxT(t), projection.Config{DB: db, Store: s, Projections: []projection.Projection{lines{notAlone: &notAlone}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Rebuild(ctxT(t), "lines", nil); err != nil {
			t.Fatal(err)
		}
		read := func() []string {
			rows, err := db.Read.QueryContext(ctxT(t), `SELECT stream_id FROM lines ORDER BY pos`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				got = append(got, id)
			}
			return got
		}
		if got := read(); !slices.Equal(got, want) {
			t.Fatalf("rebuilt rows:\n got %v\nwant %v", got, want)
		}
		// A rebuild writes its generation alone: no other runner writes it
		// before the swap.
		if n := notAlone.Load(); n != 0 {
			t.Errorf("%d of the rebuild's batches did not report running alone", n)
		}
		before, err := r.Status(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}

		failing, err := projection.New(ctxT(t), projection.Config{DB: db, Store: s,
			Projections: []projection.Projection{lines{fail: func(e eventstore.Event) bool { return e.ID == bad.ID }}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := failing.Rebuild(ctxT(t), "lines", nil); !errors.Is(err, errRefused) {
			t.Fatalf("a rebuild whose row could not be made: %v, want %v", err, errRefused)
		}
		after, err := r.Status(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if after[0].Generation != before[0].Generation {
			t.Fatalf("generation %d after the failed rebuild, want %d", after[0].Generation, before[0].Generation)
		}
		if got := read(); !slices.Equal(got, want) {
			t.Fatalf("rows after the failed rebuild:\n got %v\nwant %v", got, want)
		}
	})
}
