package features

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// Apply implements projection.Projection: it updates the row of each
// account the event concerns and recomputes its rating.
func (p *Projection) Apply(ctx context.Context, tx *projection.Tx, e eventstore.Event) error {
	v, err := p.codec.Decode(e)
	if err != nil {
		return err
	}
	switch ev := v.(type) {
	case account.AccountOpened:
		return touch(ctx, tx, ev.AccountID, ev.OpenedAt, e, func(f *Features) error {
			f.Kind, f.Status = string(ev.Kind), string(ev.Status)
			return nil
		})
	case account.AccountVerified:
		return touch(ctx, tx, ev.AccountID, ev.VerifiedAt, e, setStatus(account.Active))
	case account.AccountClosed:
		return touch(ctx, tx, ev.AccountID, ev.ClosedAt, e, setStatus(account.Closed))
	case account.ProfileUpdated:
		return touch(ctx, tx, ev.AccountID, ev.UpdatedAt, e, nil)
	case account.PersonalDataErased:
		return touch(ctx, tx, ev.AccountID, ev.ErasedAt, e, nil)
	case account.PointsCredited:
		return touch(ctx, tx, ev.AccountID, ev.CreditedAt, e, func(f *Features) error {
			switch ev.Reason {
			case transfer.ReasonDonation, transfer.ReasonGiveaway, transfer.ReasonRedemption:
				f.PointsReceived += ev.Points
			default: // interactions, bonuses of any kind
				f.PointsEarned += ev.Points
			}
			return nil
		})
	case account.PointsDebited:
		return touch(ctx, tx, ev.AccountID, ev.DebitedAt, e, func(f *Features) error {
			switch ev.Reason {
			case transfer.ReasonRedemption:
				f.PointsRedeemed += ev.Points
				f.Redemptions++
			case transfer.ReasonDonation, transfer.ReasonGiveaway:
				f.PointsDonated += ev.Points
			}
			return nil
		})
	case transfer.InteractionRecorded:
		return interaction(ctx, tx, ev, e)
	}
	return nil // other events of these streams carry no feature
}

func setStatus(s account.Status) func(*Features) error {
	return func(f *Features) error {
		f.Status = string(s)
		return nil
	}
}

// interaction counts the encounter for both parties, and a first meeting of
// the pair as one more officer met (civilian) and civilian met (officer).
func interaction(ctx context.Context, tx *projection.Tx, ev transfer.InteractionRecorded, e eventstore.Event) error {
	res, err := tx.Exec(ctx, `INSERT INTO {account_officers} (civilian_id, officer_id) VALUES (?, ?)
		ON CONFLICT (civilian_id, officer_id) DO NOTHING`, ev.CivilianID, ev.OfficerID)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("features: %w", err)
	}
	first := int64(0)
	if n > 0 {
		first = 1
	}
	err = touch(ctx, tx, ev.CivilianID, ev.RecordedAt, e, func(f *Features) error {
		f.Interactions++
		f.OfficersMet += first
		if f.Kind == "" {
			f.Kind = string(account.Civilian)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return touch(ctx, tx, ev.OfficerID, ev.RecordedAt, e, func(f *Features) error {
		f.Interactions++
		f.CiviliansMet += first
		if f.Kind == "" {
			f.Kind = string(account.Officer)
		}
		return nil
	})
}

// touch loads an account's row (a new one on first sight), applies change,
// records the activity at (the event's recorded time when the event has
// none), recomputes the rating and stores the row.
func touch(ctx context.Context, tx *projection.Tx, id string, at time.Time, e eventstore.Event, change func(*Features) error) error {
	if id == "" {
		return fmt.Errorf("features: %s %s names no account", e.Type, e.ID)
	}
	if at.IsZero() {
		at = e.RecordedAt
	}
	at = at.UTC().Truncate(time.Microsecond)
	f, err := load(ctx, tx, id)
	if err != nil {
		return err
	}
	if change != nil {
		if err := change(&f); err != nil {
			return err
		}
	}
	res, err := tx.Exec(ctx, `INSERT INTO {account_days} (account_id, day) VALUES (?, ?)
		ON CONFLICT (account_id, day) DO NOTHING`, id, at.Format(time.DateOnly))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("features: %w", err)
	} else if n > 0 {
		f.DaysActive++
	}
	if f.FirstActivity.IsZero() || at.Before(f.FirstActivity) {
		f.FirstActivity = at
	}
	if at.After(f.LastActivity) {
		f.LastActivity = at
	}
	f.Rating = int64(Rating(f))
	return save(ctx, tx, f)
}

// load reads one row in the transaction; a zero row for an account not seen
// yet.
func load(ctx context.Context, tx *projection.Tx, id string) (Features, error) {
	f := Features{AccountID: id}
	var first, last string
	err := tx.Get(ctx, `SELECT `+columns+` FROM {account_features} WHERE account_id = ?`, []any{id}, dest(&f, &first, &last)...)
	if errors.Is(err, sql.ErrNoRows) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("features: load %s: %w", id, err)
	}
	return f, parseTimes(&f, first, last)
}

func save(ctx context.Context, tx *projection.Tx, f Features) error {
	_, err := tx.Exec(ctx, `INSERT INTO {account_features} (`+columns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET kind = excluded.kind, status = excluded.status,
			interactions = excluded.interactions, officers_met = excluded.officers_met,
			civilians_met = excluded.civilians_met, points_earned = excluded.points_earned,
			points_donated = excluded.points_donated, points_received = excluded.points_received,
			points_redeemed = excluded.points_redeemed, redemptions = excluded.redemptions,
			days_active = excluded.days_active, first_activity = excluded.first_activity,
			last_activity = excluded.last_activity, rating = excluded.rating`,
		f.AccountID, f.Kind, f.Status, f.Interactions, f.OfficersMet, f.CiviliansMet,
		f.PointsEarned, f.PointsDonated, f.PointsReceived, f.PointsRedeemed, f.Redemptions,
		f.DaysActive, formatTime(f.FirstActivity), formatTime(f.LastActivity), f.Rating)
	return err
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
