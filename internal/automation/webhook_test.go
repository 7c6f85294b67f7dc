package automation_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/stream"
	"github.com/bluepoint/bluepoint/internal/webhook/webhooktest"
)

const hookSecret = "a-webhook-secret"

// hookYAML is an automation that posts the sign-up of one trace to url.
func hookYAML(url string) string {
	return fmt.Sprintf(`version: 1
automations:
  - name: notify
    on: [AccountOpened]
    condition: 'event.trace_id == "tr-hook"'
    action:
      webhook:
        url: %q
        secret_env: HOOK_SECRET
        timeout: 2s
`, url)
}

func hookEnv(name string) string {
	if name == "HOOK_SECRET" {
		return hookSecret
	}
	return ""
}

// A receiver that fails its first two calls gets the event on the third
// attempt, signed every time, and the trace shows each attempt.
func TestWebhookRetriedUntilDelivered(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	rcv := webhooktest.New(t, []byte(hookSecret))
	rcv.FailFirst(2, http.StatusServiceUnavailable)
	e.run(t, hookYAML(rcv.URL()), hookEnv)
	out, err := e.svc.OpenAccount(ctxT(t), service.Call{TraceID: "tr-hook"}, service.OpenAccount{Kind: account.Civilian,
		Name: "Ana Pérez", Email: "hooked@example.org", Password: "s3cret-enough"})
	if err != nil {
		t.Fatal(err)
	}
	opened := eventOf(t, out, "AccountOpened")

	got := rcv.WaitFor(t, 1, 30*time.Second)
	calls := rcv.Calls()
	if len(got) != 1 || len(calls) != 3 {
		t.Fatalf("%d calls, %d accepted; want 3 calls, the last accepted", len(calls), len(got))
	}
	for i, c := range calls {
		wantStatus := http.StatusServiceUnavailable
		if i == 2 {
			wantStatus = http.StatusNoContent
		}
		if c.Err != nil || c.Attempt != i+1 || c.Status != wantStatus || c.EventID != opened.ID.String() {
			t.Errorf("call %d: attempt %d, status %d, event %s, signature error %v", i, c.Attempt, c.Status, c.EventID, c.Err)
		}
	}
	ce, err := stream.Decode(got[0].Body)
	if err != nil {
		t.Fatalf("the body is not a CloudEvent: %v", err)
	}
	if ce.ID != opened.ID || ce.Type != "AccountOpened" || ce.Metadata.TraceID != "tr-hook" {
		t.Fatalf("delivered %s %s (trace %q), want the sign-up", ce.Type, ce.ID, ce.Metadata.TraceID)
	}

	want := []string{"automation.notify retried", "automation.notify retried", "automation.notify delivered"}
	eventually(t, "the delivered step", func() bool { return len(e.steps(t, "tr-hook", "automation.notify")) == 3 })
	if steps := e.steps(t, "tr-hook", "automation.notify"); !slices.Equal(steps, want) {
		t.Fatalf("automation steps:%s", e.stepDetails(t, "tr-hook"))
	}
	if d := detail(t, e, "tr-hook", "automation.notify", "retried"); !strings.HasPrefix(d, "attempt 1 of 5: ") {
		t.Errorf("retried detail %q does not give the attempt", d)
	}
}

// A receiver that never accepts: after five attempts the event is parked in
// the dead-letter stream of the automation's consumer.
func TestWebhookThatAlwaysFailsIsDeadLettered(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	rcv := webhooktest.New(t, []byte(hookSecret))
	rcv.FailFirst(1000, http.StatusBadGateway)
	e.run(t, hookYAML(rcv.URL()), hookEnv)
	out, err := e.svc.OpenAccount(ctxT(t), service.Call{TraceID: "tr-hook"}, service.OpenAccount{Kind: account.Civilian,
		Name: "Ana Pérez", Email: "unlucky@example.org", Password: "s3cret-enough"})
	if err != nil {
		t.Fatal(err)
	}
	opened := eventOf(t, out, "AccountOpened")

	var parked []stream.DeadLetter
	eventually(t, "the dead letter", func() bool {
		parked, err = e.broker.DeadLetters(ctxT(t), "automation-notify", 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(parked) > 0
	})
	if dl := parked[0]; len(parked) != 1 || dl.Event.ID != opened.ID || dl.Attempts != 5 || dl.Stream != stream.Users {
		t.Fatalf("dead letters %+v, want the sign-up after 5 attempts", parked)
	}
	if n := len(rcv.Calls()); n != 5 {
		t.Fatalf("%d calls, want 5", n)
	}
	want := []string{"retried", "retried", "retried", "retried", "dead-lettered"}
	for i := range want {
		want[i] = "automation.notify " + want[i]
	}
	eventually(t, "the dead-lettered step", func() bool { return len(e.steps(t, "tr-hook", "automation.notify")) == 5 })
	if steps := e.steps(t, "tr-hook", "automation.notify"); !slices.Equal(steps, want) {
		t.Fatalf("automation steps:%s", e.stepDetails(t, "tr-hook"))
	}
}
