package service_test

import (
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/service"
)

func TestAutomationCommands(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		civ := e.open(t, account.Civilian, "lucky@example.org")
		bot := service.Call{Actor: service.Actor{ID: "automation:bonus", Kind: account.Staff},
			TraceID: "tr-auto", CausationID: "cause-1", Depth: 1, IdempotencyKey: "automation:bonus:cause-1", Fingerprint: "cause-1"}
		args := map[string]any{"account": civ.ID, "points": float64(10), "reason": "first donation"}
		if _, err := e.svc.RunCommand(ctxT(t), bot, "GrantBonus", args); err != nil {
			t.Fatal(err)
		}
		// A redelivery of the triggering event runs the command again: the
		// idempotency key keeps it from applying twice.
		again, err := e.svc.RunCommand(ctxT(t), bot, "GrantBonus", args)
		if err != nil || !again.Replayed {
			t.Fatalf("second run: replayed=%v, %v", again != nil && again.Replayed, err)
		}
		if got := e.balance(t, civ.ID); got != 10 {
			t.Fatalf("balance %d, want 10", got)
		}
		evs, _ := e.store.ReadStream(ctxT(t), &eventstore.ReadStreamParams{StreamID: "account-" + civ.ID})
		last := evs[len(evs)-1].Metadata
		if last.TraceID != "tr-auto" || last.CausationID != "cause-1" || last.Depth != 1 {
			t.Fatalf("metadata %+v: want the trigger's trace id, causation and depth", last)
		}
		_, err = e.svc.RunCommand(ctxT(t), service.Call{Actor: service.Actor{ID: civ.ID, Kind: account.Civilian}}, "GrantBonus", args)
		wantDomain(t, err, domain.CodeForbidden, "")
		_, err = e.svc.RunCommand(ctxT(t), bot, "GrantBonus", map[string]any{"account": civ.ID, "points": "ten"})
		wantDomain(t, err, domain.CodeInvalid, "args.points")
		if _, err := e.svc.RunCommand(ctxT(t), bot, "Nope", nil); err == nil {
			t.Fatal("an unknown command must fail")
		}
	})
}
