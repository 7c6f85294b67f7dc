package graphql

import (
	"net/http"
	"strings"
	"testing"
)

// TestAuthorization checks who may see and do what, as the REST edge
// answers it: anonymous callers may only sign up; personal fields are null
// for others; private data is a forbidden error for others; the log,
// analytics and traces are for staff.
func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	civ := e.signUp(t, "civ", "CIVILIAN", "Cara Civilian", nil)
	off := e.signUp(t, "off", "OFFICER", "Otto Officer", map[string]any{"badgeNumber": "B-1", "department": "Central"})
	e.sync(t)

	t.Run("anonymous callers may only sign up", func(t *testing.T) {
		if me := gql[struct{ Me *struct{ ID string } }](t, e, "", `{ me { id } }`, nil); me.Me != nil {
			t.Fatalf("anonymous me: %+v", me.Me)
		}
		for _, q := range []string{
			`{ rules { kind } }`,
			`{ account(id: "` + civ + `") { id } }`,
			`mutation { requestEncounter { token } }`,
			`mutation { verifyAccount(id: "` + off + `") { id } }`,
			`subscription { traceSteps(traceId: "x") { step } }`,
		} {
			res := refused(t, e, "", "forbidden", q, nil)
			if !strings.Contains(res.Errors[0].Message, "sign in") {
				t.Errorf("%s: %q", q, res.Errors[0].Message)
			}
		}
	})

	t.Run("personal fields are the account's and staff's", func(t *testing.T) {
		const q = `query($id: ID!) { account(id: $id) { id kind name email phone badgeNumber department } }`
		type view struct {
			Account struct {
				ID, Kind                        string
				Name, Email, Phone, BadgeNumber *string
				Department                      *string
			}
		}
		other := gql[view](t, e, "civ", q, map[string]any{"id": off}).Account
		if other.ID != off || other.Name != nil || other.Email != nil || other.Phone != nil || other.BadgeNumber != nil {
			t.Fatalf("a civilian sees an officer's personal fields: %s", pretty(other))
		}
		if deref(other.Department) != "Central" {
			t.Fatalf("public fields hidden: %s", pretty(other))
		}
		for _, token := range []string{"off", e.staff} {
			self := gql[view](t, e, token, q, map[string]any{"id": off}).Account
			if deref(self.Name) != "Otto Officer" || deref(self.BadgeNumber) != "B-1" || deref(self.Phone) == "" {
				t.Fatalf("%s does not see the officer's personal fields: %s", token, pretty(self))
			}
		}
	})

	t.Run("private data answers forbidden to others, field by field", func(t *testing.T) {
		for _, field := range []string{"balance", "transactions { items { id } }", "connections { depth }", "rating { score }",
			"officersMet { officerId }", "donationsReceived { total }", "sales { units }"} {
			res := refused(t, e, "civ", "forbidden", `query($id: ID!) { account(id: $id) { id `+field+` } }`, map[string]any{"id": off})
			if len(res.Errors) != 1 || len(res.Errors[0].Path) != 2 || res.Errors[0].Path[1] == "id" {
				t.Fatalf("%s: %+v", field, res.Errors)
			}
		}
		for _, q := range []string{
			`{ officersMet(civilianId: "` + off + `") { officerId } }`,
			`{ transactions(accountId: "` + off + `") { items { id } } }`,
			`{ eventTypes { type } }`,
			`{ accountLifetime { opened } }`,
			`{ events { items { id } } }`,
			`{ timeSeries(type: "AccountOpened") { count } }`,
		} {
			refused(t, e, "civ", "forbidden", q, nil)
		}
		gql[map[string]any](t, e, "civ", `query($id: ID!) { account(id: $id) { balance } customerFrequency(customerId: $id) { count } }`,
			map[string]any{"id": civ})
	})

	t.Run("the service's own rules come through as domain errors", func(t *testing.T) {
		res := refused(t, e, "civ", "forbidden", `mutation($id: ID!) { verifyAccount(id: $id) { id } }`, map[string]any{"id": off})
		if res.Errors[0].Path[0] != "verifyAccount" || res.Errors[0].Extensions["traceId"] == "" {
			t.Fatalf("error %+v", res.Errors[0])
		}
		res = refused(t, e, "", "invalid", `mutation { openAccount(input: {kind: CIVILIAN, name: "X", email: "not-an-email", password: "s3cret-enough"}) { id } }`, nil)
		if res.Errors[0].Extensions["field"] != "input.email" {
			t.Fatalf("error %+v", res.Errors[0])
		}
		refused(t, e, "", "invalid", `mutation { openAccount(input: {kind: STAFF, name: "X", email: "x@example.org", password: "s3cret-enough"}) { id } }`, nil)
	})

	t.Run("a bad token is refused before anything runs", func(t *testing.T) {
		res := e.post(t, request{token: "nope", query: `{ me { id } }`})
		if res.status != http.StatusUnauthorized {
			t.Fatalf("status %d", res.status)
		}
	})
}
