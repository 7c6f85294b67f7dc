package graphql

import (
	"context"
	"errors"
	"time"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/readmodel/eventlog"
)

// ownEventsOrStaff lets staff read any customer's events, and an account
// its own.
func ownEventsOrStaff(ctx context.Context, customerID string) error {
	if a := api.ActorFrom(ctx); a.IsStaff() || (customerID != "" && a.ID == customerID) {
		return nil
	}
	return staffOnly(ctx)
}

func (r *queryResolver) Events(ctx context.Context, filter *EventFilter, first *int64, after *string) (*EventPage, error) {
	f := deref(filter)
	if err := ownEventsOrStaff(ctx, deref(f.CustomerID)); err != nil {
		return nil, err
	}
	n, err := pageSize(first, eventlog.MaxLimit)
	if err != nil {
		return nil, err
	}
	items, next, err := eventlog.List(ctx, r.s.deps.ReadDB, eventlog.Filter{CustomerID: deref(f.CustomerID), Types: f.Types,
		From: deref(f.From), To: deref(f.To), Q: deref(f.Q)}, n, deref(after))
	if err != nil {
		return nil, err
	}
	page := &EventPage{Items: make([]Event, len(items)), NextCursor: opt(next)}
	var customers, mentioned []string
	for i, e := range items {
		page.Items[i] = eventOf(e)
		customers = append(customers, e.CustomerID)
		mentioned = append(mentioned, mentions(ctx, e.Description)...)
	}
	r.s.prefetch(ctx, customers, "items", "customer")
	r.s.prefetch(ctx, mentioned, "items", "description")
	return page, nil
}

func (r *queryResolver) Event(ctx context.Context, id string) (*Event, error) {
	e, err := eventlog.Get(ctx, r.s.deps.ReadDB, id)
	if errors.Is(err, eventlog.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := ownEventsOrStaff(ctx, e.CustomerID); err != nil {
		return nil, err
	}
	ev := eventOf(e)
	return &ev, nil
}

func (r *queryResolver) EventTypes(ctx context.Context, from, to *time.Time, limit *int64) ([]TypeCount, error) {
	if err := staffOnly(ctx); err != nil {
		return nil, err
	}
	n, err := pageSize(limit, eventlog.MaxLimit)
	if err != nil {
		return nil, err
	}
	counts, err := eventlog.TopTypes(ctx, r.s.deps.ReadDB, deref(from), deref(to), n)
	if err != nil {
		return nil, err
	}
	out := make([]TypeCount, len(counts))
	for i, c := range counts {
		out[i] = TypeCount{Type: c.Type, Count: int64(c.Count)}
	}
	return out, nil
}

func buckets(bs []eventlog.Bucket, err error) ([]Bucket, error) {
	if err != nil {
		return nil, err
	}
	out := make([]Bucket, len(bs))
	for i, b := range bs {
		out[i] = Bucket{Start: b.Start, Type: b.Type, Count: int64(b.Count)}
	}
	return out, nil
}

func (r *queryResolver) CustomerFrequency(ctx context.Context, customerID string, interval Interval) ([]Bucket, error) {
	if err := ownEventsOrStaff(ctx, customerID); err != nil {
		return nil, err
	}
	return buckets(eventlog.CustomerFrequency(ctx, r.s.deps.ReadDB, customerID, valueOf(interval)))
}

func (r *queryResolver) TimeSeries(ctx context.Context, typ string, interval Interval, from, to *time.Time) ([]Bucket, error) {
	if err := staffOnly(ctx); err != nil {
		return nil, err
	}
	return buckets(eventlog.TimeSeries(ctx, r.s.deps.ReadDB, typ, valueOf(interval), deref(from), deref(to)))
}

func (r *queryResolver) AccountLifetime(ctx context.Context) (*AccountLifetime, error) {
	if err := staffOnly(ctx); err != nil {
		return nil, err
	}
	lt, err := eventlog.AccountLifetime(ctx, r.s.deps.ReadDB)
	if err != nil {
		return nil, err
	}
	return &AccountLifetime{Opened: int64(lt.Opened), Closed: int64(lt.Closed), StillOpenShare: lt.StillOpenShare,
		MedianSeconds: lt.Median.Seconds(), P90Seconds: lt.P90.Seconds()}, nil
}

func (r *eventResolver) Customer(ctx context.Context, e *Event) (*Account, error) {
	return r.s.account(ctx, deref(e.CustomerID))
}

// mentions returns the accounts a description refers to whose names the
// viewer may see.
func mentions(ctx context.Context, description string) []string {
	var visible []string
	for _, id := range eventlog.Mentions(description) {
		if canSee(ctx, id) {
			visible = append(visible, id)
		}
	}
	return visible
}

// Description names the accounts a description refers to for a viewer who
// may see their names (the account itself, staff), and leaves the others
// as their ids. The names of a whole page of events load in one batch.
func (r *eventResolver) Description(ctx context.Context, e *Event) (string, error) {
	visible := mentions(ctx, e.description)
	names := map[string]string{}
	if len(visible) > 0 {
		accounts, err := r.s.accounts(ctx, visible)
		if err != nil {
			return "", err
		}
		for id, a := range accounts {
			if a == nil {
				continue
			}
			name, err := r.s.reveal(ctx, a, a.sealedName)
			if err != nil {
				return "", err
			}
			if name != nil {
				names[id] = *name
			}
		}
	}
	return eventlog.Render(e.description, func(id string) string {
		if name, ok := names[id]; ok && name != "" {
			return name
		}
		return id
	}), nil
}
