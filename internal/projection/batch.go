package projection

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Batcher is a Projection that applies a run of events at once: a rebuild
// hands it a whole batch of the global log, so it can read the rows the
// batch touches with one query, fold the events in memory and write the
// results with a few multi-row statements, instead of paying a round trip
// per statement per event. The result must be the one Apply would give
// applied to each event in turn: the rebuilt-equals-live test holds it to
// that.
//
// The runner hands live events to ApplyBatch too (one at a time), so a
// Batcher's Apply is only a fallback for callers that use it directly.
type Batcher interface {
	Projection
	// ApplyBatch applies events in order. Events already applied never
	// come, nor events of categories it does not read.
	ApplyBatch(ctx context.Context, tx *Tx, events []eventstore.Event) error
}

// Preparer is a Batcher that applies a batch in two parts: Prepare does
// what needs no database (decoding the events, above all) and returns the
// rest, which writes. A rebuild prepares the next batch while the last one
// is being written, so that the process and the database work at once; a
// Batcher that is not a Preparer leaves the database idle while it decodes
// and the process idle while the database writes. ApplyBatch must be
// Prepare followed by its result.
type Preparer interface {
	Batcher
	// Prepare prepares events for ApplyBatch's writes, and must not touch
	// any state a batch writes: the batch before may not be written yet.
	Prepare(events []eventstore.Event) (Prepared, error)
}

// Prepared writes a prepared batch in tx.
type Prepared func(ctx context.Context, tx *Tx) error

// ApplyPrepared is a Preparer's ApplyBatch: prepare, then write in tx.
func ApplyPrepared(ctx context.Context, tx *Tx, prepare func([]eventstore.Event) (Prepared, error), events []eventstore.Event) error {
	write, err := prepare(events)
	if err != nil {
		return err
	}
	return write(ctx, tx)
}

// maxParams bounds the placeholders of one statement: SQLite allows 32,766
// by default, Postgres 65,535.
const maxParams = 30_000

// Placeholders returns n comma-separated placeholders, for IN lists and
// VALUES rows.
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return "?" + strings.Repeat(", ?", n-1)
}

// ExecValues runs head, the rows, then tail: a multi-row INSERT or upsert.
// On Postgres the rows go as one array per column, typed from the Go values
// (see unnest for the types, and for why a string must go to a text
// column); otherwise, or when a column has no type to send, as a VALUES
// list split into as few statements as the placeholder limits allow. Every
// row has the same number of values. An upsert's rows must have distinct
// keys (Postgres refuses to update one row twice in one statement). In a
// live batch on Postgres the statement goes with the next one (see Tx), and
// a failure is reported there.
func (t *Tx) ExecValues(ctx context.Context, head string, rows [][]any, tail string) error {
	return t.values(ctx, head, rows, tail, nil)
}

// Insert inserts rows (each a value per column of cols) into the logical
// table. A rebuild on Postgres loads them with COPY, which spares the
// parsing and binding of a multi-row INSERT (the event log's rebuild went
// from 44k to 63k events/s); elsewhere it is ExecValues.
func (t *Tx) Insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if t.copyRows != nil {
		return t.copy(ctx, table, cols, pgx.CopyFromRows(rows))
	}
	return t.ExecValues(ctx, `INSERT INTO {`+table+`} (`+strings.Join(cols, ", ")+`)`, rows, ``)
}

// InsertEach is Insert of the rows next makes, in order, until it returns
// nil (or an error, which inserts nothing). In a rebuild on Postgres the
// rows stream into COPY as next makes them, so that Postgres takes in the
// first ones while the later ones are made: making a row (decoding an
// event, describing it) and storing it no longer take turns.
func (t *Tx) InsertEach(ctx context.Context, table string, cols []string, next func() ([]any, error)) error {
	if t.copyRows != nil {
		// Postgres answers an aborted COPY with its own error, which
		// carries next's only as text: next's is the one to report.
		var failed error
		err := t.copy(ctx, table, cols, pgx.CopyFromFunc(func() ([]any, error) {
			row, err := next()
			failed = err
			return row, err
		}))
		if failed != nil {
			return failed
		}
		return err
	}
	var rows [][]any
	for {
		row, err := next()
		if err != nil {
			return err
		}
		if row == nil {
			return t.Insert(ctx, table, cols, rows)
		}
		rows = append(rows, row)
	}
}

func (t *Tx) copy(ctx context.Context, table string, cols []string, src pgx.CopyFromSource) error {
	physical, ok := t.tables[table]
	if !ok {
		return fmt.Errorf("projection: unknown table %q", table)
	}
	if err := t.copyRows(ctx, physical, cols, src); err != nil {
		return fmt.Errorf("projection: copy into %s: %w", table, err)
	}
	return nil
}

// QueryValues is ExecValues for a statement that returns rows (INSERT ...
// RETURNING): scan is called on each row returned.
func (t *Tx) QueryValues(ctx context.Context, head string, rows [][]any, tail string, scan func(Rows) error) error {
	return t.values(ctx, head, rows, tail, scan)
}

func (t *Tx) values(ctx context.Context, head string, rows [][]any, tail string, scan func(Rows) error) error {
	if len(rows) == 0 {
		return nil
	}
	if t.dialect == Postgres {
		if from, args, ok := unnest(rows); ok {
			return t.run(ctx, head+" "+from+" "+tail, args, scan)
		}
	}
	width := len(rows[0])
	one := "(" + Placeholders(width) + ")"
	for chunk := range slices.Chunk(rows, max(1, maxParams/width)) {
		var q strings.Builder
		q.Grow(len(head) + len(tail) + len(chunk)*(len(one)+2) + 8)
		q.WriteString(head)
		q.WriteString(" VALUES ")
		args := make([]any, 0, len(chunk)*width)
		for i, row := range chunk {
			if len(row) != width {
				return fmt.Errorf("projection: a VALUES row of %d values among rows of %d", len(row), width)
			}
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(one)
			args = append(args, row...)
		}
		q.WriteString(" ")
		q.WriteString(tail)
		if err := t.run(ctx, q.String(), args, scan); err != nil {
			return err
		}
	}
	return nil
}

// run executes a statement, or with scan a query whose rows it scans. In a
// live batch on Postgres a statement waits to go with the next one.
func (t *Tx) run(ctx context.Context, query string, args []any, scan func(Rows) error) error {
	if scan == nil {
		if t.pg != nil {
			q, err := expand(t.dialect, t.tables, query)
			if err != nil {
				return err
			}
			t.pg.queue(q, args)
			return nil
		}
		_, err := t.Exec(ctx, query, args...)
		return err
	}
	return t.each(ctx, query, args, scan)
}

// each runs a query and calls scan on each row.
func (t *Tx) each(ctx context.Context, query string, args []any, scan func(Rows) error) error {
	q, err := expand(t.dialect, t.tables, query)
	if err != nil {
		return err
	}
	if t.pg != nil {
		return t.pg.each(ctx, q, args, scan)
	}
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("projection: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("projection: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("projection: %w", err)
	}
	return nil
}

// anyForm is a QueryIn query as Postgres runs it: its keys one array.
func anyForm(query string) string { return strings.Replace(query, inKeys, anyKeys, 1) }

// eventStreams lists the streams of events, each once, in order of first
// appearance.
func eventStreams(events []eventstore.Event) []string {
	var ids []string
	seen := map[string]bool{}
	for _, e := range events {
		if !seen[e.StreamID] {
			seen[e.StreamID] = true
			ids = append(ids, e.StreamID)
		}
	}
	return ids
}

// positionsQuery reads the positions of some streams (Tx.QueryIn's form)
// in generation gen of p.
func positionsQuery(p Projection, gen int) string {
	return `SELECT stream_id, version FROM ` + positionsTable(p, gen) + ` WHERE stream_id ` + inKeys
}

// scanPosition records each row of a positions read in known.
func scanPosition(known map[string]int64) func(Rows) error {
	return func(rows Rows) error {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return err
		}
		known[id] = v
		return nil
	}
}

// inKeys is where QueryIn's keys go, and anyKeys what it becomes on
// Postgres.
const (
	inKeys  = "IN (?...)"
	anyKeys = "= ANY(?::text[])"
)

// QueryIn runs query, whose condition "IN (?...)" takes keys, and calls
// scan on each row. On Postgres the keys go as one array ("= ANY"), a
// statement text the same for any number of keys; elsewhere as IN lists,
// a statement per chunk of keys. NOT IN has no such rewrite: it is refused.
func (t *Tx) QueryIn(ctx context.Context, query string, keys []string, scan func(Rows) error) error {
	if !strings.Contains(query, inKeys) || strings.Contains(strings.ToUpper(query), "NOT "+inKeys) {
		return fmt.Errorf("projection: %q: want a condition %s (NOT IN has no array form)", query, inKeys)
	}
	if len(keys) == 0 {
		return nil
	}
	if t.dialect == Postgres {
		return t.each(ctx, anyForm(query), []any{keys}, scan)
	}
	for chunk := range slices.Chunk(keys, maxParams) {
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		q := strings.Replace(query, inKeys, "IN ("+Placeholders(len(chunk))+")", 1)
		if err := t.each(ctx, q, args, scan); err != nil {
			return err
		}
	}
	return nil
}

// chosen is a batch's events a generation has not applied, in order, with
// each stream's newest of them (by index in fresh), and, when the
// projection is a Preparer, what it prepared of them.
type chosen struct {
	fresh    []eventstore.Event
	streams  []string
	last     map[string]int
	prepared Prepared
}

// choose picks the events newer than the versions known, which it updates.
func choose(events []eventstore.Event, known map[string]int64) chosen {
	c := chosen{fresh: make([]eventstore.Event, 0, len(events)), last: map[string]int{}}
	for _, e := range events {
		if e.StreamVersion <= known[e.StreamID] {
			continue
		}
		known[e.StreamID] = e.StreamVersion
		if _, ok := c.last[e.StreamID]; !ok {
			c.streams = append(c.streams, e.StreamID)
		}
		c.last[e.StreamID] = len(c.fresh)
		c.fresh = append(c.fresh, e)
	}
	return c
}

// prepare prepares c's events when p is a Preparer.
func (c *chosen) prepare(p Projection) error {
	pp, ok := p.(Preparer)
	if !ok || len(c.fresh) == 0 {
		return nil
	}
	prepared, err := pp.Prepare(c.fresh)
	if err != nil {
		return fmt.Errorf("projection %s: prepare %d events from %s %s: %w", p.Name(), len(c.fresh), c.fresh[0].Type, c.fresh[0].ID, err)
	}
	c.prepared = prepared
	return nil
}

// applyTo applies events to generation gen, each unless that generation
// already has it: the stream version says so exactly. Whatever the
// projection, the positions of the streams cost one read and one write per
// call, not per event; known, when not nil, holds them already read (a
// live batch reads them with its generation). It returns the events it
// applied.
func (r *Runner) applyTo(ctx context.Context, t *Tx, p Projection, gen int, events []eventstore.Event, known map[string]int64) ([]eventstore.Event, error) {
	if known == nil {
		known = map[string]int64{}
		if err := t.QueryIn(ctx, positionsQuery(p, gen), eventStreams(events), scanPosition(known)); err != nil {
			return nil, fmt.Errorf("projection %s: read positions: %w", p.Name(), err)
		}
	}
	c := choose(events, known)
	if err := r.applyChosen(ctx, t, p, gen, c); err != nil {
		return nil, err
	}
	return c.fresh, nil
}

// applyChosen applies a chosen batch to generation gen and records the
// positions of its streams.
func (r *Runner) applyChosen(ctx context.Context, t *Tx, p Projection, gen int, c chosen) error {
	fresh := c.fresh
	if len(fresh) == 0 {
		return nil
	}
	var err error
	switch b, batcher := p.(Batcher); {
	case c.prepared != nil:
		err = c.prepared(ctx, t)
	case batcher:
		err = b.ApplyBatch(ctx, t, fresh)
	default:
		for _, e := range fresh {
			if err := p.Apply(ctx, t, e); err != nil {
				return fmt.Errorf("projection %s: apply %s %s: %w", p.Name(), e.Type, e.ID, err)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("projection %s: apply %d events from %s %s: %w", p.Name(), len(fresh), fresh[0].Type, fresh[0].ID, err)
	}
	rows := make([][]any, 0, len(c.streams))
	for _, id := range c.streams {
		e := fresh[c.last[id]]
		rows = append(rows, []any{e.StreamID, e.StreamVersion, e.Position.Global, int64(e.Position.TxID),
			e.RecordedAt.UTC().Format("2006-01-02T15:04:05.000000Z")})
	}
	err = t.ExecValues(ctx, `INSERT INTO `+positionsTable(p, gen)+` (stream_id, version, global_position, tx_id, recorded_at)`, rows,
		`ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, global_position = excluded.global_position,
		tx_id = excluded.tx_id, recorded_at = excluded.recorded_at`)
	if err != nil {
		return fmt.Errorf("projection %s: record positions: %w", p.Name(), err)
	}
	return nil
}
