package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// policy says who may call a route: the answer expected for a role acting
// on its own account or on another one.
type policy int

const (
	// public: anyone, signed in or not.
	public policy = iota
	// signedIn: any account.
	signedIn
	// self: the account the route names (path or customer_id) and staff.
	self
	// selfHidden: like self, but another's resource does not exist (404).
	selfHidden
	// staffOnly: platform operators.
	staffOnly
	// holders: accounts that hold points, every kind but staff.
	holders
	// civilianOnly, officerOnly: accounts of that kind.
	civilianOnly
	officerOnly
)

// route is the expectation for one operation of the OpenAPI document, and
// a body that passes its schema so that authorization, not validation,
// decides the answer.
type route struct {
	policy policy
	body   func(m *matrix, caller, target actor) any
	// last routes change the accounts they touch for good (closing,
	// erasing, and so ending their sessions): they run after every other
	// route.
	last bool
}

// routes is written by hand, independently of the handlers: a route that
// is added without an entry here fails the test.
var routes = map[string]route{
	"open-account": {policy: public, body: func(m *matrix, _, _ actor) any {
		m.n++
		return map[string]any{"kind": "civilian", "name": "Matrix", "email": fmt.Sprintf("matrix-%d@example.org", m.n), "password": "a long enough password"}
	}},
	"create-token": {policy: public, body: func(*matrix, actor, actor) any {
		return map[string]any{"email": "nobody@example.org", "password": "wrong"}
	}},
	"refresh-token":             {policy: public, body: func(*matrix, actor, actor) any { return map[string]any{"refresh_token": "not-a-token"} }},
	"get-account":               {policy: signedIn},
	"verify-account":            {policy: staffOnly},
	"close-account":             {policy: self, last: true, body: func(*matrix, actor, actor) any { return map[string]any{"reason": "matrix"} }},
	"erase-personal-data":       {policy: self, last: true},
	"get-balance":               {policy: self},
	"list-account-transactions": {policy: self},
	"list-connections":          {policy: self},
	"get-rating":                {policy: self},
	"request-encounter":         {policy: civilianOnly},
	"record-interaction":        {policy: officerOnly, body: func(*matrix, actor, actor) any { return map[string]any{"token": "not-a-token"} }},
	"donate":                    {policy: holders, body: func(_ *matrix, _, t actor) any { return map[string]any{"to": t.ID, "points": 1} }},
	"give":                      {policy: officerOnly, body: func(_ *matrix, _, t actor) any { return map[string]any{"to": t.ID, "points": 1} }},
	"redeem": {policy: holders, body: func(m *matrix, _, _ actor) any {
		return map[string]any{"merchant_id": m.merchant.ID, "sku": "SKU-1", "quantity": 1}
	}},
	"list-product": {policy: self, body: func(m *matrix, _, _ actor) any {
		m.n++
		return map[string]any{"sku": fmt.Sprintf("M-%d", m.n), "name": "Thing", "price_points": 1, "stock": 1}
	}},
	"list-products":  {policy: signedIn},
	"update-product": {policy: self, body: func(*matrix, actor, actor) any { return map[string]any{"add_stock": 1} }},
	"delist-product": {policy: self},
	"list-rules":     {policy: signedIn},
	"change-rule": {policy: staffOnly, body: func(*matrix, actor, actor) any {
		return map[string]any{"points": map[string]int{"civilian": 10, "officer": 5}}
	}},
	"list-officers-met":       {policy: self},
	"list-donations-received": {policy: self},
	"get-merchant-sales":      {policy: self},
	"record-event": {policy: staffOnly, body: func(*matrix, actor, actor) any {
		return map[string]any{"type": "matrix.test", "description": "d", "occurred_at": "2026-01-01T00:00:00Z"}
	}},
	"list-events":         {policy: self},
	"get-event":           {policy: selfHidden},
	"top-event-types":     {policy: staffOnly},
	"customer-frequency":  {policy: self},
	"account-lifetime":    {policy: staffOnly},
	"event-time-series":   {policy: staffOnly},
	"get-trace":           {policy: staffOnly},
	"get-streams":         {policy: staffOnly},
	"list-dead-letters":   {policy: staffOnly},
	"redrive-dead-letter": {policy: staffOnly},
	"export-features":     {policy: staffOnly},
}

type matrix struct {
	s        *Server
	roles    map[string]actor
	others   map[string]actor
	merchant actor
	profiles map[string]map[string]any
	n        int
	// event is the id of an event-log entry of each account.
	event map[string]string
}

// Every route of the OpenAPI document, for every role (anonymous, each
// kind, staff), on the caller's own account and on another one: allowed,
// 401, 403, or 404 where existence must not leak.
func TestAuthorizationMatrix(t *testing.T) {
	s := StartEmbedded(t)
	m := &matrix{s: s, roles: map[string]actor{}, others: map[string]actor{}, event: map[string]string{}}
	staff := actor{Login: s.Staff, token: s.SignIn(t, s.Staff)}
	m.roles["staff"] = staff
	charity := m.account(t, staff, "charity", map[string]any{"registration_number": "R-1"})
	profiles := map[string]map[string]any{
		"civilian": nil,
		"officer":  {"badge_number": "B", "department": "D"},
		"merchant": {"business_name": "Shop", "address": "1 Road"},
		"charity":  {"registration_number": "R"},
		"family":   {"household_size": 3, "sponsor_charity_id": charity.ID},
	}
	m.profiles = profiles
	for kind, p := range profiles {
		m.roles[kind] = m.account(t, staff, kind, p)
		m.others[kind] = m.account(t, staff, kind, p)
	}
	// Not a caller of the matrix: staff close and erase it.
	m.others["staff"] = m.account(t, staff, "civilian", nil)
	m.merchant = m.others["merchant"]
	s.Expect(t, http.StatusCreated, Request{Method: "POST", Path: "/v1/merchants/" + m.merchant.ID + "/products", Token: m.merchant.token,
		Body: map[string]any{"sku": "SKU-1", "name": "Thing", "price_points": 1, "stock": 1000}})
	listed := []actor{m.others["staff"]}
	for kind := range profiles {
		listed = append(listed, m.roles[kind], m.others[kind])
	}
	for _, a := range listed {
		Eventually(t, "the event log lists "+a.Email, func() bool {
			var page struct{ Items []struct{ ID string } }
			s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/events?customer_id=" + a.ID, Token: staff.token}).JSON(t, &page)
			if len(page.Items) > 0 {
				m.event[a.ID] = page.Items[0].ID
			}
			return len(page.Items) > 0
		})
	}

	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/openapi.json"}).JSON(t, &doc)
	type opRef struct{ id, method, path string }
	var ops []opRef
	for path, methods := range doc.Paths {
		for method, o := range methods {
			ops = append(ops, opRef{o.OperationID, strings.ToUpper(method), path})
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		li, lj := routes[ops[i].id].last, routes[ops[j].id].last
		if li != lj {
			return lj
		}
		return ops[i].id < ops[j].id
	})
	seen := map[string]bool{}
	for _, o := range ops {
		r, ok := routes[o.id]
		if !ok {
			t.Errorf("%s %s (%s) has no expectation in the matrix", o.method, o.path, o.id)
			continue
		}
		seen[o.id] = true
		for _, role := range []string{"anonymous", "civilian", "officer", "merchant", "charity", "family", "staff"} {
			for _, whose := range []string{"self", "other"} {
				m.check(t, o.id, o.method, o.path, r, role, whose)
			}
		}
	}
	for id := range routes {
		if !seen[id] {
			t.Errorf("the matrix expects %s, which the OpenAPI document does not list", id)
		}
	}
}

func (m *matrix) account(t *testing.T, staff actor, kind string, profile map[string]any) actor {
	m.n++
	l := Login{Email: fmt.Sprintf("%s-%d@example.org", kind, m.n), Password: "a long enough password"}
	var ref struct{ ID string }
	m.s.Expect(t, http.StatusCreated, Request{Method: "POST", Path: "/v1/accounts", Body: map[string]any{
		"kind": kind, "name": "Someone", "email": l.Email, "password": l.Password, "profile": profile}}).JSON(t, &ref)
	l.ID = ref.ID
	if kind == "officer" || kind == "charity" || kind == "family" {
		m.s.Expect(t, http.StatusOK, Request{Method: "POST", Path: "/v1/accounts/" + ref.ID + "/verify", Token: staff.token})
	}
	return actor{Login: l, token: m.s.SignIn(t, l)}
}

func (m *matrix) check(t *testing.T, id, method, path string, r route, role, whose string) {
	t.Helper()
	caller := m.roles[role]
	if r.last && whose == "self" && role != "anonymous" && role != "staff" {
		// These routes end the sessions of the account they act on, so
		// each such cell gets a caller of its own.
		caller = m.account(t, m.roles["staff"], role, m.profiles[role])
	}
	target := caller
	if whose == "other" || role == "anonymous" {
		target = m.others["civilian"]
		if o, ok := m.others[role]; ok {
			target = o
		}
		if strings.HasPrefix(path, "/v1/merchants/") {
			target = m.merchant
		}
	}
	if role == "staff" && whose == "self" {
		target = m.others["civilian"] // staff act on accounts, not on themselves
	}
	p := strings.NewReplacer("{id}", target.ID, "{sku}", "SKU-1", "{kind}", "interaction", "{trace_id}", "0123456789abcdef0123456789abcdef").Replace(path)
	switch id {
	case "redrive-dead-letter":
		p = "/v1/dead-letters/1/redrive"
	case "get-event":
		p = "/v1/events/" + m.event[target.ID]
	case "list-events":
		p += "?customer_id=" + target.ID
	case "event-time-series":
		p += "?type=AccountOpened"
	}
	var body any
	if r.body != nil {
		body = r.body(m, caller, target)
	} else if method == http.MethodPost {
		body = []byte(nil)
	}
	resp := m.s.Do(t, Request{Method: method, Path: p, Token: caller.token, Body: body})
	want := expect(r.policy, role, caller.ID == target.ID || role == "staff")
	if resp.Status >= 500 || !want.accepts(resp.Status) {
		t.Errorf("%s %s as %s on %s account = %d, want %s: %s", method, path, role, whose, resp.Status, want, trim(resp.Body))
	}
	if resp.Status >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("%s %s as %s: error without a problem body: %s", method, path, role, resp.Header.Get("Content-Type"))
	}
}

// outcome is what a cell of the matrix expects.
type outcome int

const (
	// open: anything but 403 (a public route may still refuse bad
	// credentials with 401).
	open outcome = iota
	// allowed: past authorization; the route may still find nothing (404)
	// or refuse the request on its merits (409, 422).
	allowed
	unauthenticated
	denied
	hidden
	// found: allowed, and the resource exists.
	found
)

func (o outcome) String() string {
	return [...]string{"anything but 403", "allowed (not 401 or 403)", "401", "403", "404", "200"}[o]
}

func (o outcome) accepts(status int) bool {
	switch o {
	case unauthenticated:
		return status == http.StatusUnauthorized
	case denied:
		return status == http.StatusForbidden
	case hidden:
		return status == http.StatusNotFound
	case found:
		return status == http.StatusOK
	}
	if o == open {
		return status != http.StatusForbidden
	}
	return status != http.StatusForbidden && status != http.StatusUnauthorized
}

func expect(p policy, role string, own bool) outcome {
	if p == public {
		return open
	}
	if role == "anonymous" {
		return unauthenticated
	}
	switch p {
	case signedIn:
		return allowed
	case self:
		if own {
			return allowed
		}
		return denied
	case selfHidden:
		if own {
			return found
		}
		return hidden
	case staffOnly:
		if role == "staff" {
			return allowed
		}
		return denied
	case holders:
		if role != "staff" {
			return allowed
		}
		return denied
	case civilianOnly:
		if role == "civilian" {
			return allowed
		}
		return denied
	case officerOnly:
		if role == "officer" {
			return allowed
		}
		return denied
	}
	panic("unknown policy")
}

func trim(b []byte) string {
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		if d, ok := m["detail"]; ok {
			return fmt.Sprint(d)
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
