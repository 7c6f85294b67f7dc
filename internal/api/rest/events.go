package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/readmodel/eventlog"
	"github.com/bluepoint/bluepoint/internal/readmodel/users"
	"github.com/bluepoint/bluepoint/internal/service"
)

type recordEventInput struct {
	Idempotent
	Body struct {
		Type        string          `json:"type" maxLength:"100" doc:"What kind of event, for filtering, e.g. support.ticket_opened."`
		Description string          `json:"description" maxLength:"1000"`
		CustomerID  string          `json:"customer_id,omitempty" maxLength:"100" doc:"The account it concerns, if any."`
		OccurredAt  time.Time       `json:"occurred_at"`
		Data        json.RawMessage `json:"data,omitempty" doc:"The reporter's own data, a JSON object."`
	}
}

type listEventsInput struct {
	CustomerID string    `query:"customer_id" maxLength:"100"`
	Type       []string  `query:"type" maxItems:"20" doc:"One or more types (repeat the parameter or separate with commas)."`
	From       time.Time `query:"from" doc:"Inclusive."`
	To         time.Time `query:"to" doc:"Exclusive."`
	Q          string    `query:"q" maxLength:"200" doc:"Words that must all appear in the description."`
	PageQuery
}

type eventPath struct {
	ID string `path:"id" maxLength:"100"`
}

type rangeQuery struct {
	From time.Time `query:"from" doc:"Inclusive; open when absent."`
	To   time.Time `query:"to" doc:"Exclusive; open when absent."`
}

type topTypesInput struct {
	rangeQuery
	Limit int `query:"limit" minimum:"1" maximum:"500" default:"10"`
}

type frequencyInput struct {
	AccountPath
	Interval string `query:"interval" enum:"day,week,month" default:"day"`
}

type timeSeriesInput struct {
	rangeQuery
	Type     string `query:"type" required:"true" maxLength:"100"`
	Interval string `query:"interval" enum:"day,week,month" default:"day"`
}

type bucketList struct {
	Items []eventlog.Bucket `json:"items"`
}

type typeCountList struct {
	Items []eventlog.TypeCount `json:"items"`
}

// LifetimeView is how long accounts stay open; durations in seconds.
type LifetimeView struct {
	Opened         int     `json:"opened"`
	Closed         int     `json:"closed"`
	StillOpenShare float64 `json:"still_open_share"`
	MedianSeconds  float64 `json:"median_seconds"`
	P90Seconds     float64 `json:"p90_seconds"`
	MedianReadable string  `json:"median"`
	P90Readable    string  `json:"p90"`
}

func (s *Server) eventRoutes() {
	register(s, created(op("record-event", http.MethodPost, "/v1/events", "Record an external event in the event log (staff)", "events", false)),
		func(ctx context.Context, in *recordEventInput) (*Result[service.ActivityRef], error) {
			if _, err := requireKind(ctx, account.Staff); err != nil {
				return nil, err
			}
			b := in.Body
			return result[service.ActivityRef](s.Service.RecordEvent(ctx, call(ctx, in.IdempotencyKey, "record-event", b),
				service.ExternalEvent{Type: b.Type, Description: b.Description, CustomerID: b.CustomerID, OccurredAt: b.OccurredAt, Data: b.Data}))
		})
	register(s, op("list-events", http.MethodGet, "/v1/events", "Search the event log, newest first (staff; a customer its own events)", "events", false),
		func(ctx context.Context, in *listEventsInput) (*Body[Page[eventlog.Entry]], error) {
			a, err := signedIn(ctx)
			if err != nil {
				return nil, err
			}
			if !a.IsStaff() && in.CustomerID != a.ID {
				return nil, forbidden("only staff search the whole log; set customer_id to your own account id")
			}
			var types []string
			for _, t := range in.Type {
				for _, p := range strings.Split(t, ",") {
					if p = strings.TrimSpace(p); p != "" {
						types = append(types, p)
					}
				}
			}
			items, next, err := eventlog.List(ctx, s.ReadDB, eventlog.Filter{CustomerID: in.CustomerID, Types: types, From: in.From, To: in.To, Q: in.Q}, in.Limit, in.Cursor)
			if err != nil {
				return nil, err
			}
			if err := s.render(ctx, a, items); err != nil {
				return nil, err
			}
			return &Body[Page[eventlog.Entry]]{Body: Page[eventlog.Entry]{Items: items, NextCursor: next}}, nil
		})
	register(s, op("get-event", http.MethodGet, "/v1/events/{id}", "One event of the log (staff, or the customer it concerns)", "events", false),
		func(ctx context.Context, in *eventPath) (*Body[eventlog.Entry], error) {
			a, err := signedIn(ctx)
			if err != nil {
				return nil, err
			}
			e, err := eventlog.Get(ctx, s.ReadDB, in.ID)
			if err != nil {
				return nil, err
			}
			// Someone else's event does not exist, as far as the caller
			// can tell.
			if !a.IsStaff() && e.CustomerID != a.ID {
				return nil, notFound("no such event")
			}
			items := []eventlog.Entry{e}
			if err := s.render(ctx, a, items); err != nil {
				return nil, err
			}
			return &Body[eventlog.Entry]{Body: items[0]}, nil
		})
	register(s, op("top-event-types", http.MethodGet, "/v1/analytics/event-types", "The most common event types in a range (staff)", "analytics", false),
		func(ctx context.Context, in *topTypesInput) (*Body[typeCountList], error) {
			if _, err := requireKind(ctx, account.Staff); err != nil {
				return nil, err
			}
			items, err := eventlog.TopTypes(ctx, s.ReadDB, in.From, in.To, in.Limit)
			return body(typeCountList{Items: items}, err)
		})
	register(s, op("customer-frequency", http.MethodGet, "/v1/analytics/customers/{id}/frequency", "One customer's events per type and interval (itself or staff)", "analytics", false),
		func(ctx context.Context, in *frequencyInput) (*Body[bucketList], error) {
			if _, err := selfOrStaff(ctx, in.ID); err != nil {
				return nil, err
			}
			items, err := eventlog.CustomerFrequency(ctx, s.ReadDB, in.ID, in.Interval)
			return body(bucketList{Items: items}, err)
		})
	register(s, op("account-lifetime", http.MethodGet, "/v1/analytics/account-lifetime", "How long accounts stay open (staff)", "analytics", false),
		func(ctx context.Context, _ *struct{}) (*Body[LifetimeView], error) {
			if _, err := requireKind(ctx, account.Staff); err != nil {
				return nil, err
			}
			l, err := eventlog.AccountLifetime(ctx, s.ReadDB)
			return body(LifetimeView{Opened: l.Opened, Closed: l.Closed, StillOpenShare: l.StillOpenShare,
				MedianSeconds: l.Median.Seconds(), P90Seconds: l.P90.Seconds(),
				MedianReadable: l.Median.String(), P90Readable: l.P90.String()}, err)
		})
	register(s, op("event-time-series", http.MethodGet, "/v1/analytics/timeseries", "Events of one type per interval, zeros included (staff)", "analytics", false),
		func(ctx context.Context, in *timeSeriesInput) (*Body[bucketList], error) {
			if _, err := requireKind(ctx, account.Staff); err != nil {
				return nil, err
			}
			items, err := eventlog.TimeSeries(ctx, s.ReadDB, in.Type, in.Interval, in.From, in.To)
			return body(bucketList{Items: items}, err)
		})
}

// render resolves the account references of descriptions for a reader:
// staff see names, a customer its own name, and every other account is
// "an account". The names of the whole page load in one query.
func (s *Server) render(ctx context.Context, a service.Actor, items []eventlog.Entry) error {
	var visible []string
	for _, it := range items {
		for _, id := range eventlog.Mentions(it.Description) {
			if (a.IsStaff() || id == a.ID) && !slices.Contains(visible, id) {
				visible = append(visible, id)
			}
		}
	}
	names, err := users.Names(ctx, s.ReadDB, visible, s.open)
	if err != nil {
		return err
	}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return "an account"
	}
	for i := range items {
		items[i].Description = eventlog.Render(items[i].Description, name)
	}
	return nil
}
