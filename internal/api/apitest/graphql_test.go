package apitest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// gql runs a GraphQL operation against the running server and returns its
// data, failing the test on any error.
func (s *Server) gql(t *testing.T, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	var out struct {
		Data   map[string]any   `json:"data"`
		Errors []map[string]any `json:"errors"`
	}
	s.Expect(t, http.StatusOK, Request{Method: "POST", Path: "/graphql", Token: token,
		Body: map[string]any{"query": query, "variables": vars}}).JSON(t, &out)
	if len(out.Errors) > 0 {
		b, _ := json.Marshal(out.Errors)
		t.Fatalf("graphql errors for %q: %s", query, b)
	}
	return out.Data
}

// The story again, through GraphQL on the same running server: sign-ups,
// verification, an encounter, a donation, a redemption, a rule change, the
// four questions, the event log, a trace and an erasure.
func TestStoryGraphQL(t *testing.T) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { storyGraphQL(t, b.Start(t)) })
	}
}

func storyGraphQL(t *testing.T, s *Server) {
	staff := s.SignIn(t, s.Staff)
	signUp := func(kind, name string, profile map[string]any) actor {
		l := Login{Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org", Password: "a long password for " + name}
		in := map[string]any{"kind": kind, "name": name, "email": l.Email, "password": l.Password, "profile": profile}
		d := s.gql(t, "", `mutation($in: OpenAccountInput!) { openAccount(input: $in) { id kind status } }`, map[string]any{"in": in})
		l.ID = d["openAccount"].(map[string]any)["id"].(string)
		if kind != "CIVILIAN" && kind != "MERCHANT" {
			s.gql(t, staff, `mutation($id: ID!) { verifyAccount(id: $id) { status } }`, map[string]any{"id": l.ID})
		}
		return actor{Login: l, token: s.SignIn(t, l)}
	}
	cora := signUp("CIVILIAN", "Gina Civilian", nil)
	otto := signUp("OFFICER", "Gus Officer", map[string]any{"badgeNumber": "G-1", "department": "East"})
	mia := signUp("MERCHANT", "Gail Merchant", map[string]any{"businessName": "Gail's Goods", "address": "2 High St"})
	chad := signUp("CHARITY", "Gary Charity", map[string]any{"registrationNumber": "RC-9"})
	fay := signUp("FAMILY", "Gwen Family", map[string]any{"householdSize": 2, "sponsorCharityId": chad.ID})

	enc := s.gql(t, cora.token, `mutation { requestEncounter { token qrPng } }`, nil)["requestEncounter"].(map[string]any)
	meet := s.gql(t, otto.token, `mutation($t: String!) { recordInteraction(token: $t) { civilianId officerId ruleVersion } }`,
		map[string]any{"t": enc["token"]})["recordInteraction"].(map[string]any)
	if meet["civilianId"] != cora.ID || meet["ruleVersion"] != float64(1) {
		t.Fatalf("interaction: %v", meet)
	}
	s.gql(t, cora.token, `mutation($to: ID!) { donate(to: $to, points: 4, idempotencyKey: "d1") { points } }`, map[string]any{"to": fay.ID})
	s.gql(t, mia.token, `mutation($m: ID!) { listProduct(merchantId: $m, input: {sku: "G-1", name: "Pen", pricePoints: 2, stock: 5}) { sku } }`, map[string]any{"m": mia.ID})
	s.gql(t, cora.token, `mutation($m: ID!) { redeem(merchantId: $m, sku: "G-1") { voucherCode } }`, map[string]any{"m": mia.ID})
	rule := s.gql(t, staff, `mutation { changeRule(kind: GIVEAWAY, points: [{party: "giver", points: 2}]) { version } }`, nil)
	if rule["changeRule"].(map[string]any)["version"] != float64(2) {
		t.Fatalf("rule change: %v", rule)
	}

	Eventually(t, "the four questions through GraphQL", func() bool {
		d := s.gql(t, staff, `query($c: ID!, $f: ID!, $m: ID!) {
			account(id: $m) { name }
			officersMet(civilianId: $c) { interactions }
			donationsTo(recipientId: $f) { total }
			merchantSales(merchantId: $m) { units points }
		}`, map[string]any{"c": cora.ID, "f": fay.ID, "m": mia.ID})
		met, _ := d["officersMet"].([]any)
		acc, _ := d["account"].(map[string]any)
		return len(met) == 1 && d["donationsTo"].(map[string]any)["total"] == float64(4) &&
			d["merchantSales"].(map[string]any)["units"] == float64(1) && acc != nil && acc["name"] == "Gail Merchant"
	})
	Eventually(t, "the event log through GraphQL", func() bool {
		d := s.gql(t, staff, `query($c: ID!) { events(filter: {customerId: $c}) { items { type } } }`, map[string]any{"c": cora.ID})
		items, _ := d["events"].(map[string]any)["items"].([]any)
		return len(items) >= 3
	})
	s.gql(t, staff, `{ eventTypes(limit: 5) { type count } accountLifetime { opened } }`, nil)

	resp := s.Expect(t, http.StatusOK, Request{Method: "POST", Path: "/graphql", Token: cora.token,
		Body: map[string]any{"query": `mutation($to: ID!) { donate(to: $to, points: 1) { points } }`, "variables": map[string]any{"to": fay.ID}}})
	trace := resp.Header.Get("X-Trace-Id")
	Eventually(t, "the trace through GraphQL", func() bool {
		var out struct {
			Data struct {
				Trace struct{ Steps []struct{ Step string } }
			}
		}
		s.Expect(t, http.StatusOK, Request{Method: "POST", Path: "/graphql", Token: staff,
			Body: map[string]any{"query": `query($id: ID!) { trace(id: $id) { steps { step } } }`, "variables": map[string]any{"id": trace}}}).JSON(t, &out)
		return len(out.Data.Trace.Steps) >= 3
	})

	s.gql(t, cora.token, `mutation($id: ID!) { eraseAccount(id: $id) { id } }`, map[string]any{"id": cora.ID})
	me := s.gql(t, staff, `query($id: ID!) { account(id: $id) { id } }`, map[string]any{"id": cora.ID})
	if me["account"] == nil {
		t.Fatal("the erased account is gone from GraphQL; its ledger should stay")
	}
}
