package features

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
)

// timeFormat is how times are stored: fixed width, UTC, so that text order
// is time order.
const timeFormat = "2006-01-02T15:04:05.000000Z"

const columns = `account_id, kind, status, interactions, officers_met, civilians_met,
	points_earned, points_donated, points_received, points_redeemed, redemptions,
	days_active, first_activity, last_activity, rating`

var _ projection.Preparer = (*Projection)(nil)

// Apply implements projection.Projection; see ApplyBatch.
func (p *Projection) Apply(ctx context.Context, tx *projection.Tx, e eventstore.Event) error {
	return p.ApplyBatch(ctx, tx, []eventstore.Event{e})
}

// ApplyBatch implements projection.Batcher: it updates the row of each
// account the events concern and recomputes its rating. Live, the runner
// hands it one event; a rebuild, a whole batch of the global log. Either
// way it costs a few statements: one read of the rows the events touch,
// one insert of the officer pairs and one of the active days (each
// returning the ones that are new, which is what the distinct counts
// need), and one upsert of the changed rows.
func (p *Projection) ApplyBatch(ctx context.Context, tx *projection.Tx, events []eventstore.Event) error {
	return projection.ApplyPrepared(ctx, tx, p.Prepare, events)
}

// Prepare implements projection.Preparer: it decodes the events into what
// each does to the accounts it touches.
func (p *Projection) Prepare(events []eventstore.Event) (projection.Prepared, error) {
	var steps []step
	for _, e := range events {
		st, err := p.step(e)
		if err != nil {
			return nil, err
		}
		if len(st.touches) > 0 {
			steps = append(steps, st)
		}
	}
	return func(ctx context.Context, tx *projection.Tx) error {
		if len(steps) == 0 {
			return nil
		}
		b := &batch{rows: map[string]*Features{}, changed: map[string]bool{}, newPairs: map[pair]bool{}, newDays: map[day]bool{}}
		if err := b.prepare(ctx, tx, steps); err != nil {
			return err
		}
		for _, st := range steps {
			b.fold(st)
		}
		return b.save(ctx, tx)
	}, nil
}

// step is what one event does: its touches of accounts, in order, and for
// an interaction the pair that met.
type step struct {
	touches []touchOp
	met     *pair
}

// touchOp is one account's activity at a time, with the change it makes;
// first says whether the event is the pair's first meeting.
type touchOp struct {
	id     string
	at     time.Time
	change func(f *Features, first bool)
}

type pair struct{ civilian, officer string }

type day struct{ account, day string }

// step decodes an event into what it does to the features.
func (p *Projection) step(e eventstore.Event) (step, error) {
	v, err := p.codec.Decode(e)
	if err != nil {
		return step{}, err
	}
	var st step
	touch := func(id string, at time.Time, change func(*Features, bool)) {
		if at.IsZero() {
			at = e.RecordedAt
		}
		st.touches = append(st.touches, touchOp{id: id, at: at.UTC().Truncate(time.Microsecond), change: change})
	}
	switch ev := v.(type) {
	case account.AccountOpened:
		touch(ev.AccountID, ev.OpenedAt, func(f *Features, _ bool) {
			f.Kind, f.Status = string(ev.Kind), string(ev.Status)
		})
	case account.AccountVerified:
		touch(ev.AccountID, ev.VerifiedAt, setStatus(account.Active))
	case account.AccountClosed:
		touch(ev.AccountID, ev.ClosedAt, setStatus(account.Closed))
	case account.ProfileUpdated:
		touch(ev.AccountID, ev.UpdatedAt, nil)
	case account.PersonalDataErased:
		touch(ev.AccountID, ev.ErasedAt, nil)
	case account.PointsCredited:
		touch(ev.AccountID, ev.CreditedAt, func(f *Features, _ bool) {
			switch ev.Reason {
			case transfer.ReasonDonation, transfer.ReasonGiveaway, transfer.ReasonRedemption:
				f.PointsReceived += ev.Points
			default: // interactions, bonuses of any kind
				f.PointsEarned += ev.Points
			}
		})
	case account.PointsDebited:
		touch(ev.AccountID, ev.DebitedAt, func(f *Features, _ bool) {
			switch ev.Reason {
			case transfer.ReasonRedemption:
				f.PointsRedeemed += ev.Points
				f.Redemptions++
			case transfer.ReasonDonation, transfer.ReasonGiveaway:
				f.PointsDonated += ev.Points
			}
		})
	case transfer.InteractionRecorded:
		// The encounter counts for both parties, and a first meeting of the
		// pair as one more officer met (civilian) and civilian met (officer).
		st.met = &pair{ev.CivilianID, ev.OfficerID}
		touch(ev.CivilianID, ev.RecordedAt, func(f *Features, first bool) {
			f.Interactions++
			if first {
				f.OfficersMet++
			}
			if f.Kind == "" {
				f.Kind = string(account.Civilian)
			}
		})
		touch(ev.OfficerID, ev.RecordedAt, func(f *Features, first bool) {
			f.Interactions++
			if first {
				f.CiviliansMet++
			}
			if f.Kind == "" {
				f.Kind = string(account.Officer)
			}
		})
	}
	for _, t := range st.touches {
		if t.id == "" {
			return step{}, fmt.Errorf("features: %s %s names no account", e.Type, e.ID)
		}
	}
	return st, nil
}

func setStatus(s account.Status) func(*Features, bool) {
	return func(f *Features, _ bool) { f.Status = string(s) }
}

// batch holds the rows a run of events touches, and which pairs and days
// are new to the tables.
type batch struct {
	rows     map[string]*Features
	order    []string // the rows changed, in the order first touched
	changed  map[string]bool
	newPairs map[pair]bool
	newDays  map[day]bool
}

// prepare loads the rows the steps touch and records their pairs and days,
// learning which are new.
func (b *batch) prepare(ctx context.Context, tx *projection.Tx, steps []step) error {
	var ids []string
	var pairs, days [][]any
	seenID, seenPair, seenDay := map[string]bool{}, map[pair]bool{}, map[day]bool{}
	for _, st := range steps {
		if st.met != nil && !seenPair[*st.met] {
			seenPair[*st.met] = true
			pairs = append(pairs, []any{st.met.civilian, st.met.officer})
		}
		for _, t := range st.touches {
			if !seenID[t.id] {
				seenID[t.id] = true
				ids = append(ids, t.id)
			}
			if d := (day{t.id, t.at.Format(time.DateOnly)}); !seenDay[d] {
				seenDay[d] = true
				days = append(days, []any{d.account, d.day})
			}
		}
	}
	// An account's row changes with events of its own stream and of its
	// pairs' streams, which the runners of several processes may apply
	// concurrently: the rows
	// are read with an upsert that creates the missing ones and locks them
	// all (in id order, so two batches never wait on each other in a
	// cycle) until the transaction ends. A missing row and a zero row fold
	// alike.
	slices.Sort(ids)
	scan := func(rows projection.Rows) error {
		f := &Features{}
		var first, last string
		if err := rows.Scan(dest(f, &first, &last)...); err != nil {
			return err
		}
		b.rows[f.AccountID] = f
		return parseTimes(f, first, last)
	}
	var err error
	if tx.Alone() {
		// A rebuild writes its tables alone: nothing to lock against, and
		// the upsert would write every row twice.
		err = tx.QueryIn(ctx, `SELECT `+columns+` FROM {account_features} WHERE account_id IN (?...)`, ids, scan)
	} else {
		zeros := make([][]any, len(ids))
		for i, id := range ids {
			zeros[i] = []any{id, "", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, "", "", 0}
		}
		err = tx.QueryValues(ctx, `INSERT INTO {account_features} (`+columns+`)`, zeros,
			`ON CONFLICT (account_id) DO UPDATE SET account_id = excluded.account_id RETURNING `+columns, scan)
	}
	if err != nil {
		return fmt.Errorf("features: load: %w", err)
	}
	err = tx.QueryValues(ctx, `INSERT INTO {account_officers} (civilian_id, officer_id)`, pairs,
		`ON CONFLICT (civilian_id, officer_id) DO NOTHING RETURNING civilian_id, officer_id`, func(rows projection.Rows) error {
			var p pair
			err := rows.Scan(&p.civilian, &p.officer)
			b.newPairs[p] = true
			return err
		})
	if err != nil {
		return fmt.Errorf("features: officers met: %w", err)
	}
	err = tx.QueryValues(ctx, `INSERT INTO {account_days} (account_id, day)`, days,
		`ON CONFLICT (account_id, day) DO NOTHING RETURNING account_id, day`, func(rows projection.Rows) error {
			var d day
			err := rows.Scan(&d.account, &d.day)
			b.newDays[d] = true
			return err
		})
	if err != nil {
		return fmt.Errorf("features: active days: %w", err)
	}
	return nil
}

// fold applies one event's touches to the rows: each account's row (a new
// one on first sight) gets its change, the activity at its time, and its
// rating recomputed.
func (b *batch) fold(st step) {
	first := false
	if st.met != nil && b.newPairs[*st.met] {
		first = true
		delete(b.newPairs, *st.met) // new only to its first meeting
	}
	for _, t := range st.touches {
		f := b.rows[t.id]
		if f == nil {
			f = &Features{AccountID: t.id}
			b.rows[t.id] = f
		}
		if !b.changed[t.id] {
			b.changed[t.id] = true
			b.order = append(b.order, t.id)
		}
		if t.change != nil {
			t.change(f, first)
		}
		if d := (day{t.id, t.at.Format(time.DateOnly)}); b.newDays[d] {
			f.DaysActive++
			delete(b.newDays, d)
		}
		if f.FirstActivity.IsZero() || t.at.Before(f.FirstActivity) {
			f.FirstActivity = t.at
		}
		if t.at.After(f.LastActivity) {
			f.LastActivity = t.at
		}
		f.Rating = int64(Rating(*f))
	}
}

// save upserts the changed rows.
func (b *batch) save(ctx context.Context, tx *projection.Tx) error {
	rows := make([][]any, 0, len(b.order))
	for _, id := range b.order {
		f := b.rows[id]
		rows = append(rows, []any{f.AccountID, f.Kind, f.Status, f.Interactions, f.OfficersMet, f.CiviliansMet,
			f.PointsEarned, f.PointsDonated, f.PointsReceived, f.PointsRedeemed, f.Redemptions,
			f.DaysActive, formatTime(f.FirstActivity), formatTime(f.LastActivity), f.Rating})
	}
	return tx.ExecValues(ctx, `INSERT INTO {account_features} (`+columns+`)`, rows,
		`ON CONFLICT (account_id) DO UPDATE SET kind = excluded.kind, status = excluded.status,
			interactions = excluded.interactions, officers_met = excluded.officers_met,
			civilians_met = excluded.civilians_met, points_earned = excluded.points_earned,
			points_donated = excluded.points_donated, points_received = excluded.points_received,
			points_redeemed = excluded.points_redeemed, redemptions = excluded.redemptions,
			days_active = excluded.days_active, first_activity = excluded.first_activity,
			last_activity = excluded.last_activity, rating = excluded.rating`)
}

// dest lists scan targets in the order of columns; the times go through
// text.
func dest(f *Features, first, last *string) []any {
	return []any{&f.AccountID, &f.Kind, &f.Status, &f.Interactions, &f.OfficersMet, &f.CiviliansMet,
		&f.PointsEarned, &f.PointsDonated, &f.PointsReceived, &f.PointsRedeemed, &f.Redemptions,
		&f.DaysActive, first, last, &f.Rating}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

func parseTimes(f *Features, first, last string) error {
	for _, x := range []struct {
		s   string
		dst *time.Time
	}{{first, &f.FirstActivity}, {last, &f.LastActivity}} {
		if x.s == "" {
			*x.dst = time.Time{}
			continue
		}
		t, err := time.Parse(timeFormat, x.s)
		if err != nil {
			return fmt.Errorf("features: stored time %q: %w", x.s, err)
		}
		*x.dst = t
	}
	return nil
}
