package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/api/rest"
	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/readmodel/users"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/service/servicetest"
	"github.com/bluepoint/bluepoint/internal/stream"
)

type problemBody struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Location string `json:"location"`
		Message  string `json:"message"`
	} `json:"errors"`
}

func decodeProblem(t *testing.T, body []byte) problemBody {
	t.Helper()
	var p problemBody
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem %q: %v", body, err)
	}
	return p
}

func TestBadBodiesAreProblems(t *testing.T) {
	f := newFixture(t)
	donate := "/v1/donations"
	for _, c := range []struct {
		name     string
		body     string
		status   int
		typ      string
		location string
	}{
		{"unknown field", `{"to":"x","points":5,"admin":true}`, 422, "/problems/invalid", "body.admin"},
		{"wrong type", `{"to":"x","points":"five"}`, 422, "/problems/invalid", "body.points"},
		{"missing field", `{"points":5}`, 422, "/problems/invalid", "body"},
		{"out of range", `{"to":"x","points":0}`, 422, "/problems/invalid", "body.points"},
		{"malformed", `{"to":`, 400, "/problems/bad_request", ""},
		{"too large", `{"to":"x","points":5,"note":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "/problems/body_too_large", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := f.do(t.Context(), "POST", donate, "civilian", []byte(c.body))
			if rec.Code != c.status || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("= %d %s, want %d problem: %s", rec.Code, rec.Header().Get("Content-Type"), c.status, rec.Body)
			}
			p := decodeProblem(t, rec.Body.Bytes())
			if p.Type != c.typ || p.Status != c.status || p.Detail == "" {
				t.Fatalf("problem %+v", p)
			}
			if c.location != "" && (len(p.Errors) == 0 || p.Errors[0].Location != c.location) {
				t.Fatalf("errors %+v, want one at %s", p.Errors, c.location)
			}
		})
	}
}

func TestDomainErrorsNameTheField(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t.Context(), "POST", "/v1/donations", "civilian", []byte(`{"to":"`+f.actors["officer"].ID+`","points":5}`))
	p := decodeProblem(t, rec.Body.Bytes())
	if rec.Code >= 500 || rec.Code < 400 || !strings.HasPrefix(p.Type, "/problems/") || p.Detail == "" {
		t.Fatalf("donation to an officer = %d %+v", rec.Code, p)
	}
	// A problem type resolves to a page a person can read.
	doc := f.do(t.Context(), "GET", p.Type, "", nil)
	if doc.Code != http.StatusOK || doc.Body.Len() == 0 {
		t.Fatalf("GET %s = %d", p.Type, doc.Code)
	}
}

// A domain rejection places its field where huma's own validation would:
// body., query. or path., so a client reads one style of location.
func TestDomainErrorsUseHumasLocations(t *testing.T) {
	f := newFixture(t)
	signUp := func(email string) []byte {
		return []byte(`{"kind":"civilian","name":"Ann","email":"` + email + `","password":"a long enough password"}`)
	}
	for _, c := range []struct {
		name, method, path, caller string
		body                       []byte
		sentTwice                  bool // the first time succeeds
		status                     int
		location                   string
	}{
		{"bad email", "POST", "/v1/accounts", "", signUp("ann@example"), false, 422, "body.email"},
		{"email taken", "POST", "/v1/accounts", "", signUp("lena@example.org"), true, 409, "body.email"},
		{"bad cursor", "GET", "/v1/merchants/" + f.actors["merchant"].ID + "/products?cursor=%25", "civilian", nil, false, 422, "query.cursor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.sentTwice {
				if rec := f.do(t.Context(), c.method, c.path, c.caller, c.body); rec.Code != http.StatusOK && rec.Code != http.StatusCreated {
					t.Fatalf("first time = %d: %s", rec.Code, rec.Body)
				}
			}
			rec := f.do(t.Context(), c.method, c.path, c.caller, c.body)
			p := decodeProblem(t, rec.Body.Bytes())
			if rec.Code != c.status || len(p.Errors) != 1 || p.Errors[0].Location != c.location {
				t.Fatalf("= %d %+v, want %d with one error at %s", rec.Code, p, c.status, c.location)
			}
		})
	}
}

func TestSignInRefreshAndRateLimit(t *testing.T) {
	f := newFixture(t)
	signIn := func(pw string) (int, map[string]any, http.Header) {
		rec := f.do(t.Context(), "POST", "/v1/auth/token", "", []byte(`{"email":"civilian@example.org","password":"`+pw+`"}`))
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		return rec.Code, m, rec.Header()
	}
	code, tok, _ := signIn("a long enough password")
	if code != http.StatusOK || tok["token_type"] != "Bearer" || tok["expires_in"] != float64(900) || tok["refresh_token"] == "" {
		t.Fatalf("sign-in = %d %v", code, tok)
	}
	refresh := func(rt any) (int, map[string]any) {
		rec := f.do(t.Context(), "POST", "/v1/auth/refresh", "", []byte(`{"refresh_token":"`+rt.(string)+`"}`))
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		return rec.Code, m
	}
	code, next := refresh(tok["refresh_token"])
	if code != http.StatusOK || next["refresh_token"] == tok["refresh_token"] {
		t.Fatalf("refresh = %d %v", code, next)
	}
	if code, m := refresh(tok["refresh_token"]); code != http.StatusUnauthorized || m["type"] != "/problems/refresh_token_reused" {
		t.Fatalf("reuse = %d %v", code, m)
	}
	if code, _ := refresh(next["refresh_token"]); code != http.StatusUnauthorized {
		t.Fatalf("the session survived a reuse: %d", code)
	}
	// Wrong passwords: one answer whatever failed, then the limit.
	var limited http.Header
	var detail any
	for i := 0; i < 10 && limited == nil; i++ {
		code, m, h := signIn("wrong password")
		switch code {
		case http.StatusUnauthorized:
			if m["type"] != "/problems/bad_credentials" {
				t.Fatalf("wrong password: %v", m)
			}
		case http.StatusTooManyRequests:
			limited, detail = h, m["detail"]
		default:
			t.Fatalf("wrong password = %d %v", code, m)
		}
	}
	if limited == nil {
		t.Fatal("no 429 after repeated failures")
	}
	// The header and the detail give the same wait, never zero.
	if wait, err := strconv.Atoi(limited.Get("Retry-After")); err != nil || wait < 1 ||
		detail != fmt.Sprintf("too many sign-in attempts; try again in %ds", wait) {
		t.Fatalf("Retry-After %q with detail %q", limited.Get("Retry-After"), detail)
	}
}

// brokerOps answers the operations routes from a stream engine alone.
type brokerOps struct{ b *stream.Broker }

func (brokerOps) Streams(context.Context) (rest.StreamsReport, error) {
	return rest.StreamsReport{}, nil
}

func (o brokerOps) DeadLetters(ctx context.Context, p *stream.DeadLetterPageParams) ([]stream.DeadLetter, string, error) {
	return o.b.DeadLetterPage(ctx, p)
}

func (o brokerOps) Redrive(ctx context.Context, seq uint64) error { return o.b.Redrive(ctx, seq) }

// listsWorld is what newListsFixture made: the civilian, the officers in
// the order it met them, the merchant, and the events a consumer parked,
// in the order they were published.
type listsWorld struct {
	civ, merchant string
	officers      []string
	parked        []string
}

// newListsFixture is the REST edge over read models built from a few
// commands, and a stream engine where a consumer parked every account event:
// something for each list to page through.
func newListsFixture(t *testing.T) (*fixture, listsWorld) {
	ctx := t.Context()
	store := storetest.OpenSQLite(t, storetest.Options{})
	svc := servicetest.New(t, store, nil)
	staff := servicetest.Staff(t, svc, "Staff", "staff@example.org")
	actors := verifier{"staff": staff}
	must := func(out *command.Outcome, err error) *command.Outcome {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	open := func(kind account.Kind, name string, p account.Profile) service.Actor {
		out := must(svc.OpenAccount(ctx, service.Call{}, service.OpenAccount{Kind: kind, Name: name,
			Email: strings.ReplaceAll(strings.ToLower(name), " ", ".") + "@example.org", Password: "a long enough password", Profile: p}))
		a := service.Actor{ID: accountID(t, out.Result.Body), Kind: kind}
		if kind.NeedsVerification() {
			must(svc.VerifyAccount(ctx, service.Call{Actor: staff}, a.ID))
		}
		return a
	}
	var w listsWorld
	civ := open(account.Civilian, "Cara Civilian", account.Profile{})
	w.civ, actors["civilian"] = civ.ID, civ
	for i := range 3 {
		off := open(account.Officer, fmt.Sprintf("Officer %d", i), account.Profile{BadgeNumber: fmt.Sprintf("B-%d", i), Department: "Central"})
		tok, err := svc.RequestEncounter(ctx, service.Call{Actor: civ})
		if err != nil {
			t.Fatal(err)
		}
		must(svc.RecordInteraction(ctx, service.Call{Actor: off}, tok.Token))
		w.officers = append(w.officers, off.ID)
	}
	mer := open(account.Merchant, "Mia Merchant", account.Profile{BusinessName: "Shop", Address: "1 Road"})
	w.merchant, actors["merchant"] = mer.ID, mer
	for _, sku := range []string{"P-A", "P-B", "P-C"} {
		must(svc.ListProduct(ctx, service.Call{Actor: mer}, mer.ID, sku, "Product "+sku, 1, 10))
	}
	for _, sku := range []string{"P-C", "P-A", "P-C"} {
		must(svc.Redeem(ctx, service.Call{Actor: civ}, mer.ID, sku, 1, 1))
	}

	db, err := projection.OpenSQLite(filepath.Join(t.TempDir(), "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	runner, err := projection.New(ctx, projection.Config{DB: db, Store: store, Projections: []projection.Projection{users.Projection{}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Rebuild(ctx, "users", nil); err != nil {
		t.Fatal(err)
	}

	broker, err := stream.Open(ctx, stream.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { broker.Close() })
	events, err := store.ReadAll(ctx, &eventstore.ReadAllParams{After: eventstore.Start, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// The consumer reads one stream, in order, so it parks the events in
	// the order they were published.
	for _, ev := range events {
		if _, err := broker.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if s, _ := stream.StreamFor(ev.Category()); s == stream.Users {
			w.parked = append(w.parked, ev.ID.String())
		}
	}
	if len(w.parked) < 4 {
		t.Fatalf("%d events to park, too few to page", len(w.parked))
	}
	refuse := func(context.Context, eventstore.Event, stream.Delivery) error { return errors.New("refused") }
	if _, err := broker.Consume(ctx, stream.ConsumerConfig{Name: "refuser", Streams: []string{stream.Users}, MaxDeliver: 1}, refuse); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if dls, err := broker.DeadLetters(ctx, "refuser", 0); err == nil && len(dls) == len(w.parked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the events were not all parked")
		}
	}

	mux := http.NewServeMux()
	rest.Register(mux, rest.Deps{Service: svc, ReadDB: db, Store: store, Ops: brokerOps{broker}, Logger: slog.New(slog.DiscardHandler)})
	return &fixture{handler: api.Middleware(mux, api.Options{Logger: slog.New(slog.DiscardHandler), Verifier: actors}), actors: actors}, w
}

// walk reads a list route limit items at a time, following next_cursor,
// and returns field of every item under key, and every page. Each page
// but the last holds limit items; none is empty but a first.
func (f *fixture) walk(t *testing.T, caller, path, key, field string, limit int) (values []string, pages []map[string]any) {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for cursor := ""; ; {
		rec := f.do(t.Context(), "GET", path+sep+"limit="+strconv.Itoa(limit)+"&cursor="+url.QueryEscape(cursor), caller, nil)
		var page map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &page); rec.Code != http.StatusOK || err != nil {
			t.Fatalf("GET %s after %q = %d: %s", path, cursor, rec.Code, rec.Body)
		}
		items, _ := page[key].([]any)
		next, _ := page["next_cursor"].(string)
		if len(items) > limit || next != "" && len(items) != limit || next == "" && len(items) == 0 && len(pages) > 0 || len(pages) > 50 {
			t.Fatalf("GET %s, %d at a time, page %d: %s", path, limit, len(pages)+1, rec.Body)
		}
		for _, it := range items {
			values = append(values, fmt.Sprint(it.(map[string]any)[field]))
		}
		pages = append(pages, page)
		if next == "" {
			return values, pages
		}
		cursor = next
	}
}

// TestListsPageByPage walks each list that pages at every page size up to
// one more than it holds: it gets every item once, in the order the route
// documents, and every page of sales the totals of all.
func TestListsPageByPage(t *testing.T) {
	f, w := newListsFixture(t)
	linked := append(slices.Clone(w.officers), w.merchant)
	slices.Sort(linked)
	for _, c := range []struct {
		name, caller, path, key, field string
		want                           []string
	}{
		{"officers met, the last met first", "civilian", "/v1/civilians/" + w.civ + "/officers", "items", "officer_id",
			[]string{w.officers[2], w.officers[1], w.officers[0]}},
		{"connections, by depth then id", "civilian", "/v1/accounts/" + w.civ + "/connections?depth=1", "items", "account_id", linked},
		{"sales, the best-selling first then by sku", "merchant", "/v1/merchants/" + w.merchant + "/sales", "products", "sku",
			[]string{"P-C", "P-A", "P-B"}},
		{"dead letters, oldest first", "staff", "/v1/dead-letters?consumer=refuser", "items", "event_id", w.parked},
	} {
		t.Run(c.name, func(t *testing.T) {
			for limit := 1; limit <= len(c.want)+1; limit++ {
				got, pages := f.walk(t, c.caller, c.path, c.key, c.field, limit)
				if !slices.Equal(got, c.want) {
					t.Fatalf("%d at a time:\n got %v\nwant %v", limit, got, c.want)
				}
				for _, p := range pages {
					if c.key == "products" && (p["units"] != float64(3) || p["points"] != float64(3)) {
						t.Fatalf("%d at a time: a page of sales without the totals: %v", limit, p)
					}
				}
			}
		})
	}
}

// TestListPagingIsChecked refuses a cursor the list did not give and a
// limit out of bounds, as 422 problems that name the parameter.
func TestListPagingIsChecked(t *testing.T) {
	f, w := newListsFixture(t)
	for _, c := range []struct{ caller, path string }{
		{"civilian", "/v1/civilians/" + w.civ + "/officers?"},
		{"civilian", "/v1/accounts/" + w.civ + "/connections?depth=2&"},
		{"merchant", "/v1/merchants/" + w.merchant + "/sales?"},
		{"staff", "/v1/dead-letters?"},
	} {
		maxLimit := "501"
		if strings.HasPrefix(c.path, "/v1/dead-letters") {
			maxLimit = "1001"
		}
		for query, location := range map[string]string{
			"cursor=not-a-cursor": "query.cursor", "cursor=" + url.QueryEscape("a|b"): "query.cursor",
			"limit=0": "query.limit", "limit=" + maxLimit: "query.limit",
		} {
			rec := f.do(t.Context(), "GET", c.path+query, c.caller, nil)
			if rec.Code != http.StatusUnprocessableEntity || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("GET %s%s = %d %s: %s", c.path, query, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			p := decodeProblem(t, rec.Body.Bytes())
			if p.Type != "/problems/invalid" || len(p.Errors) == 0 || p.Errors[0].Location != location {
				t.Fatalf("GET %s%s: %+v", c.path, query, p)
			}
		}
	}
}

// A PATCH of a product that changes its price and adds stock does both or
// neither, and a retry with the same Idempotency-Key gets the first answer
// rather than adding the stock twice.
func TestUpdateProductIsOneCommand(t *testing.T) {
	f := newFixture(t)
	mer := f.actors["merchant"].ID
	path := "/v1/merchants/" + mer + "/products/MUG"
	if rec := f.do(t.Context(), "POST", "/v1/merchants/"+mer+"/products", "merchant",
		[]byte(`{"sku":"MUG","name":"Mug","price_points":30,"stock":999990}`)); rec.Code != http.StatusCreated {
		t.Fatalf("list = %d %s", rec.Code, rec.Body)
	}
	patch := func(body, key string) (*httptest.ResponseRecorder, service.ProductView) {
		t.Helper()
		req := httptest.NewRequestWithContext(t.Context(), "PATCH", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer merchant")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, req)
		var v service.ProductView
		if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &v) != nil {
			t.Fatalf("PATCH %s answered %s", body, rec.Body)
		}
		return rec, v
	}
	rec, _ := patch(`{"price_points":40,"add_stock":11}`, "")
	if p := decodeProblem(t, rec.Body.Bytes()); rec.Code != http.StatusUnprocessableEntity || len(p.Errors) == 0 || p.Errors[0].Location != "body.add_stock" {
		t.Fatalf("PATCH beyond the stock limit = %d %+v", rec.Code, p)
	}
	if rec, v := patch(`{"add_stock":1}`, ""); rec.Code != http.StatusOK || v.PricePoints != 30 || v.Stock != 999991 {
		t.Fatalf("after a refused PATCH: %d %+v; want the price unchanged", rec.Code, v)
	}
	first, v := patch(`{"price_points":40,"add_stock":5}`, "restock-1")
	again, _ := patch(`{"price_points":40,"add_stock":5}`, "restock-1")
	if first.Code != http.StatusOK || v.PricePoints != 40 || v.Stock != 999996 || again.Code != http.StatusOK ||
		again.Body.String() != first.Body.String() || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("PATCH = %d %s, retried = %d %s (replayed %q)", first.Code, first.Body, again.Code, again.Body,
			again.Header().Get("Idempotent-Replayed"))
	}
	if rec, v := patch(`{"add_stock":1}`, ""); rec.Code != http.StatusOK || v.Stock != 999997 {
		t.Fatalf("after a PATCH and its retry: %d %+v; want the stock added once", rec.Code, v)
	}
}
