package eventlog

import (
	"context"
	"errors"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/codec"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
)

var _ projection.Preparer = (*Projection)(nil)

// Apply implements projection.Projection; see ApplyBatch.
func (p *Projection) Apply(ctx context.Context, tx *projection.Tx, e eventstore.Event) error {
	return p.ApplyBatch(ctx, tx, []eventstore.Event{e})
}

// ApplyBatch implements projection.Batcher: one row per event, its words
// in the SQLite index, and the openings and closings of accounts in
// account_lifetimes. Live, the runner hands it one event; a rebuild, a
// whole batch of the global log, written with one multi-row INSERT (on
// Postgres, COPY) per table.
func (p *Projection) ApplyBatch(ctx context.Context, tx *projection.Tx, events []eventstore.Event) error {
	return projection.ApplyPrepared(ctx, tx, p.Prepare, events)
}

// entry is an event as the log keeps it.
type entry struct {
	global   int64 // the event's global position
	streamID string
	summary
}

// Prepare implements projection.Preparer: it decodes and describes the
// events, and folds the openings and closings of accounts.
func (p *Projection) Prepare(events []eventstore.Event) (projection.Prepared, error) {
	entries := make([]entry, len(events))
	lt := lifetimes{rows: map[string]*lifetime{}}
	for i, e := range events {
		v, err := p.codec.Decode(e)
		if err != nil && !errors.Is(err, codec.ErrUnknownType) {
			return nil, err
		}
		s := summarize(e, v)
		// External events may use the same type names; only an account's
		// own stream opens and closes it.
		if e.Category() == account.Category {
			switch ev := v.(type) {
			case account.AccountOpened:
				lt.open(ev.AccountID, s.occurredAt.UnixMicro())
			case account.AccountClosed:
				lt.close(ev.AccountID, s.occurredAt.UnixMicro())
			}
		}
		entries[i] = entry{global: e.Position.Global, streamID: e.StreamID, summary: s}
	}
	return func(ctx context.Context, tx *projection.Tx) error {
		if err := insertEntries(ctx, tx, entries); err != nil {
			return err
		}
		return lt.save(ctx, tx)
	}, nil
}

// insertEntries writes the log's rows and, on SQLite, their words.
func insertEntries(ctx context.Context, tx *projection.Tx, entries []entry) error {
	sqlite := tx.Dialect() == projection.SQLite
	cols := []string{"id", "type", "stream_id", "customer_id", "occurred_at", "description", "data"}
	if sqlite {
		cols = append([]string{"seq"}, cols...)
	}
	i := 0
	// The rows are made as they are inserted, so that a rebuild's batch
	// does not hold them all beside its entries.
	next := func() ([]any, error) {
		if i == len(entries) {
			return nil, nil
		}
		e := &entries[i]
		i++
		row := []any{e.id, e.typ, e.streamID, e.customerID, e.occurredAt.UnixMicro(), e.description, string(e.data)}
		if sqlite {
			// seq is the event's global position: unique, and the same
			// whether the row came live or from a rebuild (which apply in
			// different orders).
			row = append([]any{e.global}, row...)
		}
		return row, nil
	}
	if err := tx.InsertEach(ctx, "event_log", cols, next); err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	if !sqlite {
		return nil
	}
	fts := make([][]any, len(entries))
	for i, e := range entries {
		fts[i] = []any{e.global, searchText(e.description), e.global}
	}
	if err := tx.ExecValues(ctx, `INSERT INTO {event_log_fts} (rowid, description, seq)`, fts, ``); err != nil {
		return fmt.Errorf("event log: index: %w", err)
	}
	return nil
}

// lifetime is a row of account_lifetimes: times in microseconds, closedAt
// 0 while open.
type lifetime struct {
	opened, closed int64
}

// lifetimes folds a batch's openings and closings before writing them.
type lifetimes struct {
	rows  map[string]*lifetime
	order []string
	// closedOnly are accounts closed in the batch but opened before it.
	closedOnly []string
}

// row returns the batch's row of an account, and whether it is new.
func (l *lifetimes) row(id string) (*lifetime, bool) {
	if r := l.rows[id]; r != nil {
		return r, false
	}
	r := &lifetime{}
	l.rows[id] = r
	l.order = append(l.order, id)
	return r, true
}

func (l *lifetimes) open(id string, at int64) {
	r, _ := l.row(id)
	r.opened = at
}

func (l *lifetimes) close(id string, at int64) {
	r, fresh := l.row(id)
	if fresh {
		l.closedOnly = append(l.closedOnly, id)
	}
	r.closed = at
}

// save writes the rows. An account closed in this batch and opened in an
// earlier one takes its opening from the table; a closing without an
// opening (which the account streams never hold) is not recorded, so the
// analytics pair exactly what was opened.
func (l *lifetimes) save(ctx context.Context, tx *projection.Tx) error {
	if len(l.order) == 0 {
		return nil
	}
	if len(l.closedOnly) > 0 {
		found := map[string]bool{}
		err := tx.QueryIn(ctx, `SELECT account_id, opened_at FROM {account_lifetimes} WHERE account_id IN (?...)`, l.closedOnly,
			func(rows projection.Rows) error {
				var id string
				var opened int64
				if err := rows.Scan(&id, &opened); err != nil {
					return err
				}
				if r := l.rows[id]; r != nil && r.opened == 0 {
					r.opened, found[id] = opened, true
				}
				return nil
			})
		if err != nil {
			return fmt.Errorf("event log: lifetimes: %w", err)
		}
		for _, id := range l.closedOnly {
			if !found[id] && l.rows[id].opened == 0 {
				delete(l.rows, id)
			}
		}
	}
	rows := make([][]any, 0, len(l.order))
	for _, id := range l.order {
		r := l.rows[id]
		if r == nil {
			continue
		}
		var closed, life *int64 // NULL while open
		if r.closed != 0 {
			closed, life = &r.closed, new(r.closed-r.opened)
		}
		rows = append(rows, []any{id, r.opened, closed, life})
	}
	err := tx.ExecValues(ctx, `INSERT INTO {account_lifetimes} (account_id, opened_at, closed_at, lifetime)`, rows,
		`ON CONFLICT (account_id) DO UPDATE SET opened_at = excluded.opened_at, closed_at = excluded.closed_at,
			lifetime = excluded.lifetime`)
	if err != nil {
		return fmt.Errorf("event log: lifetimes: %w", err)
	}
	return nil
}
