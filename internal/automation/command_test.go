package automation_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/service"
)

const bonusYAML = `version: 1
automations:
  - name: bonus
    on: [DonationMade]
    # Every field of the event, to check what the condition sees.
    condition: >-
      event.data.points >= 50 && event.depth == 0 && event.type == "DonationMade" &&
      event.stream.startsWith("donation-") && event.time > timestamp("2020-01-01T00:00:00Z") &&
      event.id.size() == 36 && event.trace_id.startsWith("tr-")
    action:
      command:
        name: GrantBonus
        args:
          account: '{{ event.data.to }}'
          points: 10
          reason: a big donation
`

// A donation of 50 points or more earns the receiving charity a bonus, run as
// a command that carries the donation's trace, causation and depth.
func TestCommandCarriesTheTrace(t *testing.T) {
	for name, open := range map[string]func(*testing.T, storetest.Options) eventstore.Store{
		"sqlite": storetest.OpenSQLite, "postgres": storetest.OpenPostgres,
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open)
			e.run(t, bonusYAML, nil)
			donor := e.richCivilian(t, "donor@example.org", 200)
			small := e.verified(t, account.Charity, "small@example.org")
			big := e.verified(t, account.Charity, "big@example.org")

			if _, err := e.svc.Donate(ctxT(t), service.Call{Actor: donor, TraceID: "tr-small"}, small.ID, 20, ""); err != nil {
				t.Fatal(err)
			}
			out, err := e.svc.Donate(ctxT(t), service.Call{Actor: donor, TraceID: "tr-big"}, big.ID, 60, "")
			if err != nil {
				t.Fatal(err)
			}
			donation := eventOf(t, out, "DonationMade")
			eventually(t, "the bonus", func() bool { return e.balance(t, big.ID) == 70 })
			// The consumer handles the stream in order: the small donation
			// was judged before the big one.
			if got := e.balance(t, small.ID); got != 20 {
				t.Fatalf("the 20-point donation earned a bonus: balance %d", got)
			}

			evs, err := e.store.ReadStream(ctxT(t), &eventstore.ReadStreamParams{StreamID: "account-" + big.ID})
			if err != nil {
				t.Fatal(err)
			}
			bonus := evs[len(evs)-1]
			var credit account.PointsCredited
			if err := json.Unmarshal(bonus.Data, &credit); err != nil {
				t.Fatal(err)
			}
			if bonus.Type != "PointsCredited" || credit.Points != 10 || credit.Reason != "a big donation" {
				t.Fatalf("last event %s %s, want the bonus credit", bonus.Type, bonus.Data)
			}
			want := eventstore.Metadata{TraceID: "tr-big", CorrelationID: "tr-big", CausationID: donation.ID.String(),
				ActorID: "automation:bonus", Depth: 1}
			if bonus.Metadata != want {
				t.Fatalf("bonus metadata %+v, want %+v", bonus.Metadata, want)
			}

			// Each part records its step after its own work, so the relay's
			// step may come after the automation's: wait for both, not an order.
			eventually(t, "the automation's and the relay's trace steps", func() bool {
				steps := e.steps(t, "tr-big", "")
				return slices.Contains(steps, "automation.bonus applied") && slices.Contains(steps, "relay published")
			})
			steps := e.steps(t, "tr-big", "")
			if steps[0] != "command.Donate applied" || !slices.Contains(steps, "command.GrantBonus applied") {
				t.Fatalf("trace of the donation:%s", e.stepDetails(t, "tr-big"))
			}
			if d := detail(t, e, "tr-big", "automation.bonus", "applied"); d != "GrantBonus" {
				t.Errorf("applied step detail %q, want the command's name", d)
			}
			if got := e.steps(t, "tr-small", "automation.bonus"); len(got) != 0 {
				t.Fatalf("a condition that did not hold left trace steps: %v", got)
			}
		})
	}
}

// An automation that triggers itself stops at max_depth: each run is one
// level deeper, and the event at the limit is recorded, not acted on.
func TestChainStopsAtMaxDepth(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	e.run(t, `version: 1
automations:
  - name: chain
    on: [PointsCredited]
    condition: 'event.data.reason == "chain"'
    max_depth: 3
    action:
      command:
        name: GrantBonus
        args:
          account: '{{ event.data.account_id }}'
          points: 1
          reason: chain
`, nil)
	civ := e.open(t, service.Call{}, account.Civilian, "chained@example.org")
	if _, err := e.svc.GrantBonus(ctxT(t), service.Call{Actor: e.staff, TraceID: "tr-chain"}, civ.ID, 5, "chain"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the chain to stop", func() bool {
		return slices.Contains(e.steps(t, "tr-chain", "automation.chain"), "automation.chain stopped")
	})
	if got := e.steps(t, "tr-chain", "automation.chain"); !slices.Equal(got, []string{
		"automation.chain applied", "automation.chain applied", "automation.chain applied", "automation.chain stopped",
	}) {
		t.Fatalf("automation steps:%s", e.stepDetails(t, "tr-chain"))
	}
	if d := detail(t, e, "tr-chain", "automation.chain", "stopped"); d != "chain depth 3 reached the limit 3" {
		t.Errorf("stopped detail %q", d)
	}
	if got := e.balance(t, civ.ID); got != 5+3 {
		t.Fatalf("balance %d, want 5 and 3 chained credits", got)
	}
	evs, err := e.store.ReadStream(ctxT(t), &eventstore.ReadStreamParams{StreamID: "account-" + civ.ID})
	if err != nil {
		t.Fatal(err)
	}
	var depths []int
	for _, ev := range evs {
		if ev.Type == "PointsCredited" {
			depths = append(depths, ev.Metadata.Depth)
		}
	}
	if !slices.Equal(depths, []int{0, 1, 2, 3}) {
		t.Fatalf("credits at depths %v, want 0 1 2 3", depths)
	}
}
