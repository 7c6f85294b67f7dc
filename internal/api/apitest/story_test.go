package apitest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The whole story of the platform, over HTTP, against a running server:
// sign-ups of every kind, verification, an encounter through a QR token,
// donations, a giveaway, a product and a redemption, a rule change, the four
// users-domain questions, the event log and its analytics, a trace, and an
// erasure.
func TestStory(t *testing.T) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { story(t, b.Start(t)) })
	}
}

type actor struct {
	Login
	token string
}

func story(t *testing.T, s *Server) {
	staff := s.SignIn(t, s.Staff)
	signUp := func(kind, name string, profile map[string]any) actor {
		l := Login{Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org", Password: "a long password for " + name}
		var ref struct{ ID, Kind, Status string }
		s.Expect(t, http.StatusCreated, Request{Method: "POST", Path: "/v1/accounts", Body: map[string]any{
			"kind": kind, "name": name, "email": l.Email, "password": l.Password, "phone": "+1 555 0100", "profile": profile,
		}}).JSON(t, &ref)
		if ref.Kind != kind || ref.ID == "" {
			t.Fatalf("sign-up of %s: %+v", name, ref)
		}
		l.ID = ref.ID
		return actor{Login: l}
	}
	verify := func(a actor) {
		s.Expect(t, http.StatusOK, Request{Method: "POST", Path: "/v1/accounts/" + a.ID + "/verify", Token: staff})
	}

	cora := signUp("civilian", "Cora Civilian", nil)
	otto := signUp("officer", "Otto Officer", map[string]any{"badge_number": "B-1", "department": "North"})
	olga := signUp("officer", "Olga Officer", map[string]any{"badge_number": "B-2", "department": "South"})
	mia := signUp("merchant", "Mia Merchant", map[string]any{"business_name": "Mia's Books", "address": "1 Main St"})
	chad := signUp("charity", "Chad Charity", map[string]any{"registration_number": "RC-7"})
	for _, a := range []actor{otto, olga, chad} {
		verify(a)
	}
	fay := signUp("family", "Fay Family", map[string]any{"household_size": 4, "sponsor_charity_id": chad.ID})
	verify(fay)
	for _, a := range []*actor{&cora, &otto, &olga, &mia, &chad, &fay} {
		a.token = s.SignIn(t, a.Login)
	}

	// An encounter: the civilian's token, as text and QR code, submitted
	// by the officer. The idempotency key replays the first answer, so a
	// retried request shows the same token.
	encounter := Request{Method: "POST", Path: "/v1/encounters", Token: cora.token, Header: map[string]string{"Idempotency-Key": "enc-1"}}
	encResp := s.Expect(t, http.StatusCreated, encounter)
	var qr struct {
		Token string `json:"token"`
		QR    string `json:"qr_png"`
	}
	encResp.JSON(t, &qr)
	if qr.Token == "" || !strings.HasPrefix(qr.QR, "iVBORw0KGgo") {
		t.Fatalf("encounter: %s", encResp.Body)
	}
	if retry := s.Expect(t, http.StatusCreated, encounter); string(retry.Body) != string(encResp.Body) || retry.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a retried encounter request was not replayed: %s", retry.Body)
	}
	if other := s.Expect(t, http.StatusCreated, Request{Method: "POST", Path: "/v1/encounters", Token: cora.token}); string(other.Body) == string(encResp.Body) {
		t.Fatal("a request without the key got the same token")
	}
	interact := Request{Method: "POST", Path: "/v1/interactions", Token: otto.token, Body: map[string]string{"token": qr.Token},
		Header: map[string]string{"Idempotency-Key": "meet-1"}}
	first := s.Expect(t, http.StatusCreated, interact)
	again := s.Expect(t, http.StatusCreated, interact)
	if string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" || first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry: %s %v, first %s", again.Body, again.Header, first.Body)
	}
	var second struct {
		Token string `json:"token"`
	}
	s.Expect(t, http.StatusCreated, Request{Method: "POST", Path: "/v1/encounters", Token: cora.token}).JSON(t, &second)
	other := interact
	other.Body = map[string]string{"token": second.Token}
	if r := s.Expect(t, http.StatusUnprocessableEntity, other); !strings.Contains(string(r.Body), "/problems/idempotency_key_reused") {
		t.Fatalf("reused key: %s", r.Body)
	}
	var meet struct {
		CivilianID  string           `json:"civilian_id"`
		OfficerID   string           `json:"officer_id"`
		Points      map[string]int64 `json:"points"`
		RuleVersion int              `json:"rule_version"`
	}
	first.JSON(t, &meet)
	if meet.CivilianID != cora.ID || meet.OfficerID != otto.ID || meet.Points["civilian"] != 10 || meet.Points["officer"] != 5 || meet.RuleVersion != 1 {
		t.Fatalf("interaction: %s", first.Body)
	}
	// A token works once.
	s.Expect(t, http.StatusConflict, Request{Method: "POST", Path: "/v1/interactions", Token: olga.token, Body: map[string]string{"token": qr.Token}})

	// Staff change the interaction rule; the next encounter is priced by
	// version 2 and records it.
	var rule struct {
		Version int              `json:"version"`
		Points  map[string]int64 `json:"points"`
	}
	s.Expect(t, http.StatusOK, Request{Method: "PUT", Path: "/v1/rules/interaction", Token: staff,
		Body: map[string]any{"points": map[string]int64{"civilian": 20, "officer": 7}, "condition": "counters.pair_today < 5"}}).JSON(t, &rule)
	if rule.Version != 2 || rule.Points["civilian"] != 20 {
		t.Fatalf("rule change: %+v", rule)
	}
	s.Expect(t, http.StatusForbidden, Request{Method: "PUT", Path: "/v1/rules/interaction", Token: otto.token,
		Body: map[string]any{"points": map[string]int64{"civilian": 1000, "officer": 1000}}})
	s.Expect(t, http.StatusCreated, Request{Method: "POST", Path: "/v1/encounters", Token: cora.token}).JSON(t, &qr)
	s.Expect(t, http.StatusCreated, Request{Method: "POST", Path: "/v1/interactions", Token: otto.token, Body: map[string]string{"token": qr.Token}}).JSON(t, &meet)
	if meet.RuleVersion != 2 || meet.Points["civilian"] != 20 {
		t.Fatalf("second interaction: %+v", meet)
	}

	// Donation (with the donor's bonus), giveaway, product, redemption.
	donation := s.Expect(t, http.StatusCreated, Request{Method: "POST", Path: "/v1/donations", Token: cora.token,
		Body: map[string]any{"to": fay.ID, "points": 12, "note": "for school books"}})
	donationTrace := donation.Header.Get("X-Trace-Id")
	if len(donationTrace) != 32 {
		t.Fatalf("trace id %q", donationTrace)
	}
	s.Expect(t, http.StatusCreated, Request{Method: "POST", Path: "/v1/giveaways", Token: otto.token, Body: map[string]any{"to": olga.ID, "points": 4}})
	s.Expect(t, http.StatusForbidden, Request{Method: "POST", Path: "/v1/giveaways", Token: cora.token, Body: map[string]any{"to": olga.ID, "points": 1}})
	s.Expect(t, http.StatusCreated, Request{Method: "POST", Path: "/v1/merchants/" + mia.ID + "/products", Token: mia.token,
		Body: map[string]any{"sku": "BOOK-1", "name": "A good book", "price_points": 5, "stock": 3}})
	var voucher struct {
		VoucherCode string `json:"voucher_code"`
		Points      int64  `json:"points"`
	}
	s.Expect(t, http.StatusCreated, Request{Method: "POST", Path: "/v1/redemptions", Token: cora.token,
		Body: map[string]any{"merchant_id": mia.ID, "sku": "BOOK-1", "quantity": 1}}).JSON(t, &voucher)
	if voucher.VoucherCode == "" || voucher.Points != 5 {
		t.Fatalf("redemption: %+v", voucher)
	}
	if r := s.Expect(t, http.StatusConflict, Request{Method: "POST", Path: "/v1/redemptions", Token: cora.token,
		Body: map[string]any{"merchant_id": mia.ID, "sku": "BOOK-1", "quantity": 100}}); !strings.Contains(string(r.Body), "/problems/") {
		t.Fatalf("overdraft: %s", r.Body)
	}

	// Balances: 10+20 earned, 12 donated, +1 bonus, 5 spent.
	balance := func(a actor) int64 {
		var b struct{ Balance int64 }
		s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/accounts/" + a.ID + "/balance", Token: a.token}).JSON(t, &b)
		return b.Balance
	}
	for a, want := range map[*actor]int64{&cora: 14, &otto: 8, &olga: 4, &fay: 12, &mia: 5} {
		if got := balance(*a); got != want {
			t.Errorf("balance of %s = %d, want %d", a.Email, got, want)
		}
	}

	// The four users-domain questions, from the read models.
	Eventually(t, "officers met", func() bool {
		var met struct {
			Items []struct {
				OfficerID    string `json:"officer_id"`
				Interactions int    `json:"interactions"`
			}
		}
		s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/civilians/" + cora.ID + "/officers", Token: cora.token}).JSON(t, &met)
		return len(met.Items) == 1 && met.Items[0].OfficerID == otto.ID && met.Items[0].Interactions == 2
	})
	Eventually(t, "donations received", func() bool {
		var d struct {
			Total int64
			Count int
		}
		s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/recipients/" + fay.ID + "/donations", Token: fay.token}).JSON(t, &d)
		return d.Total == 12 && d.Count == 1
	})
	Eventually(t, "merchant sales", func() bool {
		var sales struct{ Units, Points int64 }
		s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/merchants/" + mia.ID + "/sales", Token: mia.token}).JSON(t, &sales)
		return sales.Units == 1 && sales.Points == 5
	})
	var profile map[string]any
	s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/accounts/" + mia.ID, Token: mia.token}).JSON(t, &profile)
	if profile["name"] != "Mia Merchant" || profile["profile"].(map[string]any)["address"] != "1 Main St" {
		t.Fatalf("own profile: %v", profile)
	}
	profile = s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/accounts/" + mia.ID, Token: cora.token}).Map(t)
	if _, ok := profile["name"]; ok || profile["profile"].(map[string]any)["address"] != nil || profile["balance"] != nil ||
		profile["profile"].(map[string]any)["business_name"] != "Mia's Books" {
		t.Fatalf("someone else's view of a profile shows personal fields: %v", profile)
	}
	Eventually(t, "connections", func() bool {
		var c struct {
			Items []struct {
				AccountID string `json:"account_id"`
				Depth     int
			}
		}
		s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/accounts/" + cora.ID + "/connections?depth=2", Token: cora.token}).JSON(t, &c)
		depth := map[string]int{}
		for _, it := range c.Items {
			depth[it.AccountID] = it.Depth
		}
		// Cora met Otto and paid Fay and Mia; Otto gave to Olga.
		return depth[otto.ID] == 1 && depth[fay.ID] == 1 && depth[mia.ID] == 1 && depth[olga.ID] == 2
	})

	// The event log: an external event, search, and a customer's own view.
	s.Expect(t, http.StatusCreated, Request{Method: "POST", Path: "/v1/events", Token: staff, Body: map[string]any{
		"type": "support.call", "description": "Called about a lost voucher", "customer_id": cora.ID,
		"occurred_at": time.Now().UTC().Format(time.RFC3339), "data": map[string]any{"minutes": 4}}})
	s.Expect(t, http.StatusForbidden, Request{Method: "POST", Path: "/v1/events", Token: cora.token, Body: map[string]any{
		"type": "x", "description": "y", "occurred_at": time.Now().UTC().Format(time.RFC3339)}})
	Eventually(t, "event log search", func() bool {
		var page struct {
			Items []struct{ Type, Description, CustomerID string }
		}
		s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/events?q=voucher&customer_id=" + cora.ID, Token: staff}).JSON(t, &page)
		return len(page.Items) == 1 && page.Items[0].Type == "support.call"
	})
	Eventually(t, "a donation's description names the family for staff", func() bool {
		var page struct {
			Items []struct{ Description string }
		}
		s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/events?type=DonationMade", Token: staff}).JSON(t, &page)
		return len(page.Items) == 1 && strings.Contains(page.Items[0].Description, "Fay Family")
	})
	// The donor sees her donation, but not the family's name.
	var mine struct {
		Items []struct{ Description string }
	}
	s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/events?type=DonationMade&customer_id=" + cora.ID, Token: cora.token}).JSON(t, &mine)
	if len(mine.Items) != 1 || !strings.Contains(mine.Items[0].Description, "to an account") || strings.Contains(mine.Items[0].Description, "Fay") {
		t.Errorf("the donor's view of her donation: %+v", mine.Items)
	}
	s.Expect(t, http.StatusForbidden, Request{Method: "GET", Path: "/v1/events", Token: cora.token})
	var own struct{ Items []struct{ CustomerID string } }
	s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/events?customer_id=" + cora.ID, Token: cora.token}).JSON(t, &own)
	if len(own.Items) == 0 {
		t.Fatal("a customer sees none of its own events")
	}

	// Analytics.
	var top struct{ Items []struct{ Type string } }
	s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/analytics/event-types?limit=50", Token: staff}).JSON(t, &top)
	if !hasType(top.Items, "InteractionRecorded") {
		t.Errorf("top types: %+v", top)
	}
	var freq struct{ Items []struct{ Type string } }
	s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/analytics/customers/" + cora.ID + "/frequency?interval=week", Token: cora.token}).JSON(t, &freq)
	if len(freq.Items) == 0 {
		t.Error("no frequency buckets for the civilian")
	}
	s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/analytics/timeseries?type=InteractionRecorded&interval=day", Token: staff})
	s.Expect(t, http.StatusUnprocessableEntity, Request{Method: "GET", Path: "/v1/analytics/timeseries?type=X&interval=fortnight", Token: staff})

	// The donation's trace: the command, then the relay and projections.
	Eventually(t, "the donation's trace", func() bool {
		var tr struct {
			TraceID string `json:"trace_id"`
			Steps   []struct{ Step, Status string }
		}
		r := s.Do(t, Request{Method: "GET", Path: "/v1/traces/" + donationTrace, Token: staff})
		if r.Status != http.StatusOK {
			return false
		}
		r.JSON(t, &tr)
		steps := map[string]bool{}
		for _, st := range tr.Steps {
			steps[st.Step] = true
		}
		return tr.TraceID == donationTrace && steps["command.Donate"] && steps["relay"] &&
			steps["projection.users"] && steps["projection.eventlog"]
	})

	// Operations: this deployment's streams only, even on a shared cluster.
	var ops struct {
		Streams     []struct{ Name string }
		Consumers   []struct{ Name string }
		Projections []struct{ Name string }
	}
	s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/streams", Token: staff}).JSON(t, &ops)
	if len(ops.Streams) == 0 || len(ops.Consumers) == 0 || len(ops.Projections) != 3 {
		t.Fatalf("streams: %+v", ops)
	}
	for _, st := range ops.Streams {
		if !strings.HasPrefix(st.Name, s.Config.StreamPrefix) {
			t.Errorf("another deployment's stream %s is listed", st.Name)
		}
	}

	// Erasure: personal fields read [erased], the ledger stays, sessions end.
	s.Expect(t, http.StatusOK, Request{Method: "DELETE", Path: "/v1/accounts/" + cora.ID + "/personal-data", Token: cora.token})
	var erased map[string]any
	s.Expect(t, http.StatusOK, Request{Method: "GET", Path: "/v1/accounts/" + cora.ID, Token: staff}).JSON(t, &erased)
	if erased["name"] != "[erased]" || erased["email"] != "[erased]" || erased["erased"] != true || erased["balance"] != float64(14) {
		t.Fatalf("after erasure: %v", erased)
	}
	s.Expect(t, http.StatusUnauthorized, Request{Method: "POST", Path: "/v1/auth/token", Body: map[string]string{"email": cora.Email, "password": cora.Password}})
	s.Expect(t, http.StatusUnauthorized, Request{Method: "GET", Path: "/v1/accounts/" + cora.ID + "/balance", Token: cora.token})
}

func hasType(items []struct{ Type string }, typ string) bool {
	for _, it := range items {
		if it.Type == typ {
			return true
		}
	}
	return false
}
