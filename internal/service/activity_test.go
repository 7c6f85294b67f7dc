package service_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/activity"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/service"
)

func TestRecordEvent(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		civ := e.open(t, account.Civilian, "civ@example.org")
		staff := service.Call{Actor: e.staff}
		at := e.clock.Now().Add(-48 * time.Hour).Truncate(time.Microsecond) // the log's precision
		good := service.ExternalEvent{Type: "support.call", Description: "  Asked about a voucher  ", CustomerID: civ.ID,
			OccurredAt: at, Data: json.RawMessage(`{ "minutes": 12 }`)}
		out, err := e.svc.RecordEvent(ctxT(t), staff, good)
		if err != nil {
			t.Fatal(err)
		}
		got := decodeBody[service.ActivityRef](t, out)
		if out.Result.Status != 201 || got.ID == "" || got.Type != "support.call" || got.CustomerID != civ.ID || !got.OccurredAt.Equal(at) {
			t.Fatalf("result %d %+v", out.Result.Status, got)
		}
		evs, err := e.store.ReadStream(ctxT(t), &eventstore.ReadStreamParams{StreamID: activity.StreamID(got.ID)})
		if err != nil || len(evs) != 1 || evs[0].Metadata.ActorID != e.staff.ID {
			t.Fatalf("stream: %v, %v", evs, err)
		}
		rec, ok := mustDecode(t, e, evs[0]).(activity.ActivityRecorded)
		if !ok || rec.EventID != got.ID || rec.Description != "Asked about a voucher" || string(rec.Data) != `{"minutes":12}` ||
			rec.CustomerID != civ.ID || !rec.OccurredAt.Equal(at) {
			t.Fatalf("recorded %+v", rec)
		}
		// Without a customer, and without data.
		if _, err := e.svc.RecordEvent(ctxT(t), staff, service.ExternalEvent{Type: "Newsletter", Description: "Sent",
			OccurredAt: e.clock.Now().Add(4 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		bad := func(field string, change func(*service.ExternalEvent)) {
			t.Helper()
			in := good
			change(&in)
			_, err := e.svc.RecordEvent(ctxT(t), staff, in)
			wantDomain(t, err, domain.CodeInvalid, field)
		}
		bad("type", func(in *service.ExternalEvent) { in.Type = "" })
		bad("type", func(in *service.ExternalEvent) { in.Type = "has space" })
		bad("type", func(in *service.ExternalEvent) { in.Type = strings.Repeat("a", 101) })
		bad("description", func(in *service.ExternalEvent) { in.Description = "   " })
		bad("description", func(in *service.ExternalEvent) { in.Description = strings.Repeat("é", 501) })
		bad("customer_id", func(in *service.ExternalEvent) { in.CustomerID = "0190a4c2-0000-7000-8000-000000000000" })
		bad("customer_id", func(in *service.ExternalEvent) { in.CustomerID = "-" })
		bad("occurred_at", func(in *service.ExternalEvent) { in.OccurredAt = time.Time{} })
		bad("occurred_at", func(in *service.ExternalEvent) { in.OccurredAt = e.clock.Now().Add(6 * time.Minute) })
		bad("data", func(in *service.ExternalEvent) { in.Data = json.RawMessage(`[1, 2]`) })
		bad("data", func(in *service.ExternalEvent) { in.Data = json.RawMessage(`{"a":`) })
		bad("data", func(in *service.ExternalEvent) {
			in.Data = json.RawMessage(`{"a":"` + strings.Repeat("x", 64<<10) + `"}`)
		})
		_, err = e.svc.RecordEvent(ctxT(t), service.Call{Actor: actorOf(civ)}, good)
		wantDomain(t, err, domain.CodeForbidden, "")
		// A retried request records once.
		call := service.Call{Actor: e.staff, IdempotencyKey: "ext-1", Fingerprint: "f"}
		first, err := e.svc.RecordEvent(ctxT(t), call, good)
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.svc.RecordEvent(ctxT(t), call, good)
		if err != nil || !again.Replayed || decodeBody[service.ActivityRef](t, again).ID != decodeBody[service.ActivityRef](t, first).ID {
			t.Fatalf("retry: %+v, %v", again, err)
		}
	})
}
