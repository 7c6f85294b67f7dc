package automation_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bluepoint/bluepoint/internal/automation"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/sinkconfig"
)

// A command the domain refuses is recorded once and not retried; a command
// whose arguments cannot be evaluated over the event is retried and parked.
func TestRejectedAndBrokenCommands(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	e.run(t, `version: 1
automations:
  - name: refused
    on: [AccountOpened]
    condition: 'event.trace_id.startsWith("tr-")'
    action:
      command: {name: GrantBonus, args: {account: nobody, points: 1}}
  - name: broken
    on: [AccountOpened]
    condition: 'event.trace_id == "tr-1"'
    action:
      command: {name: GrantBonus, args: {account: '{{ event.data.no_such_field }}', points: 1}}
`, nil)
	e.open(t, service.Call{TraceID: "tr-1"}, account.Civilian, "one@example.org")
	e.open(t, service.Call{TraceID: "tr-2"}, account.Civilian, "two@example.org")

	// The consumer settles one event before it takes the next, so once the
	// second sign-up is refused the first is settled for good.
	eventually(t, "the second refusal", func() bool {
		return slices.Contains(e.steps(t, "tr-2", "automation.refused"), "automation.refused rejected")
	})
	if got := e.steps(t, "tr-1", "automation.refused"); !slices.Equal(got, []string{"automation.refused rejected"}) {
		t.Fatalf("refused steps:%s", e.stepDetails(t, "tr-1"))
	}
	if d := detail(t, e, "tr-1", "automation.refused", "rejected"); !strings.HasPrefix(d, "GrantBonus: ") {
		t.Errorf("rejected detail %q", d)
	}

	eventually(t, "the broken automation to give up", func() bool {
		parked, err := e.broker.DeadLetters(ctxT(t), "automation-broken", 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(parked) == 1
	})
	eventually(t, "the dead-lettered step", func() bool { return len(e.steps(t, "tr-1", "automation.broken")) == 5 })
	want := []string{"failed", "failed", "failed", "failed", "dead-lettered"}
	for i := range want {
		want[i] = "automation.broken " + want[i]
	}
	if got := e.steps(t, "tr-1", "automation.broken"); !slices.Equal(got, want) {
		t.Fatalf("broken steps:%s", e.stepDetails(t, "tr-1"))
	}
	if d := detail(t, e, "tr-1", "automation.broken", "failed"); !strings.Contains(d, "no_such_field") {
		t.Errorf("failed detail %q does not say what went wrong", d)
	}
}

// New refuses what would fail on every event, naming the automation.
func TestNewNamesTheBrokenAutomation(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	hook := sinkconfig.Action{Webhook: &sinkconfig.WebhookAction{URL: "http://127.0.0.1:1/", SecretEnv: "UNSET_SECRET"}}
	cmd := sinkconfig.Action{Command: &sinkconfig.CommandAction{Name: "GrantBonus",
		Args: map[string]sinkconfig.Arg{"points": {Expr: "event.data.points +"}}}}
	cases := []struct {
		name     string
		auto     sinkconfig.Automation
		commands automation.Commander
		says     string
	}{
		{"secret", sinkconfig.Automation{Name: "hook", On: []string{"X"}, Action: hook}, e.svc, "UNSET_SECRET"},
		{"condition", sinkconfig.Automation{Name: "cond", On: []string{"X"}, Condition: "event.data.points",
			Action: sinkconfig.Action{Command: &sinkconfig.CommandAction{Name: "GrantBonus"}}}, e.svc, "must be a bool"},
		{"argument", sinkconfig.Automation{Name: "args", On: []string{"X"}, Action: cmd}, e.svc, "argument points"},
		{"no commander", sinkconfig.Automation{Name: "cmd", On: []string{"X"},
			Action: sinkconfig.Action{Command: &sinkconfig.CommandAction{Name: "GrantBonus"}}}, nil, "no command runner"},
		{"no action", sinkconfig.Automation{Name: "idle", On: []string{"X"}}, e.svc, "exactly one"},
		{"bad name", sinkconfig.Automation{Name: "Bad Name", On: []string{"X"}, Action: cmd}, e.svc, "the name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := automation.New(automation.Config{Broker: e.broker, Store: e.store, Commands: c.commands,
				Automations: []sinkconfig.Automation{c.auto}, Getenv: func(string) string { return "" }})
			if err == nil || !strings.Contains(err.Error(), `automation "`+c.auto.Name+`"`) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("New: %v; want an error naming %q that says %q", err, c.auto.Name, c.says)
			}
		})
	}
}
