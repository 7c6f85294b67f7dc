package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/api/rest"
	"github.com/bluepoint/bluepoint/internal/auth/loginlimit"
	"github.com/bluepoint/bluepoint/internal/auth/token"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore/sqlite"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/service/servicetest"
)

// fixture is the REST edge over a real service and read database, with
// callers named by their bearer tokens.
type fixture struct {
	handler http.Handler
	actors  map[string]service.Actor
}

type verifier map[string]service.Actor

func (v verifier) Verify(raw string) (service.Actor, error) {
	a, ok := v[raw]
	if !ok {
		return a, token.ErrInvalid
	}
	return a, nil
}

func newFixture(t testing.TB) *fixture {
	store, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "events.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := servicetest.New(t, store, nil)
	db, err := projection.OpenSQLite(filepath.Join(t.TempDir(), "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tokens, _, err := token.New(context.Background(), token.Config{Dir: t.TempDir(), DB: db.Write})
	if err != nil {
		t.Fatal(err)
	}
	actors := verifier{"staff": servicetest.Staff(t, svc, "Staff", "staff@example.org")}
	for k, p := range map[account.Kind]account.Profile{
		account.Civilian: {},
		account.Officer:  {BadgeNumber: "B", Department: "D"},
		account.Merchant: {BusinessName: "Shop", Address: "1 Road"},
	} {
		out, err := svc.OpenAccount(context.Background(), service.Call{}, service.OpenAccount{Kind: k, Name: "Someone " + string(k),
			Email: string(k) + "@example.org", Password: "a long enough password", Profile: p})
		if err != nil {
			t.Fatal(err)
		}
		actors[string(k)] = service.Actor{ID: accountID(t, out.Result.Body), Kind: k}
	}
	mux := http.NewServeMux()
	rest.Register(mux, rest.Deps{Service: svc, ReadDB: db, Store: store, Tokens: tokens,
		Limiter: loginlimit.New(loginlimit.Config{}), Logger: slog.New(slog.DiscardHandler)})
	return &fixture{handler: api.Middleware(mux, api.Options{Logger: slog.New(slog.DiscardHandler), Verifier: actors}), actors: actors}
}

func accountID(t testing.TB, body []byte) string {
	var ref struct{ ID string }
	if err := json.Unmarshal(body, &ref); err != nil || ref.ID == "" {
		t.Fatalf("account ref %q: %v", body, err)
	}
	return ref.ID
}

func (f *fixture) do(ctx context.Context, method, path, caller string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if caller != "" {
		req.Header.Set("Authorization", "Bearer "+caller)
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

// commandRoute is a route that decodes a JSON body, the caller that may
// use it, and a valid body to start fuzzing from.
type commandRoute struct {
	method, path, caller, seed string
}

func commandRoutes(f *fixture) []commandRoute {
	civ, off, mer := f.actors["civilian"].ID, f.actors["officer"].ID, f.actors["merchant"].ID
	return []commandRoute{
		{"POST", "/v1/accounts", "", `{"kind":"civilian","name":"Ann","email":"ann@example.org","password":"a long enough password","profile":{}}`},
		{"POST", "/v1/auth/token", "", `{"email":"civilian@example.org","password":"a long enough password"}`},
		{"POST", "/v1/auth/refresh", "", `{"refresh_token":"abc"}`},
		{"POST", "/v1/accounts/" + civ + "/close", "civilian", `{"reason":"moving away"}`},
		{"POST", "/v1/interactions", "officer", `{"token":"abc.def"}`},
		{"POST", "/v1/donations", "civilian", fmt.Sprintf(`{"to":%q,"points":5,"note":"hi"}`, off)},
		{"POST", "/v1/giveaways", "officer", fmt.Sprintf(`{"to":%q,"points":5}`, off)},
		{"POST", "/v1/redemptions", "civilian", fmt.Sprintf(`{"merchant_id":%q,"sku":"A","quantity":1}`, mer)},
		{"POST", "/v1/merchants/" + mer + "/products", "merchant", `{"sku":"A","name":"Apple","price_points":3,"stock":10}`},
		{"PATCH", "/v1/merchants/" + mer + "/products/A", "merchant", `{"price_points":4,"add_stock":2}`},
		{"PUT", "/v1/rules/interaction", "staff", `{"points":{"civilian":10,"officer":5},"condition":"counters.pair_today < 3"}`},
		{"POST", "/v1/events", "staff", fmt.Sprintf(`{"type":"support.call","description":"Called","customer_id":%q,"occurred_at":"2026-01-02T03:04:05Z","data":{"a":1}}`, civ)},
	}
}

// FuzzCommandBodies sends arbitrary bodies to every route that decodes one:
// whatever the bytes, the answer is never a 5xx.
func FuzzCommandBodies(f *testing.F) {
	fx := newFixture(f)
	routes := commandRoutes(fx)
	for i, r := range routes {
		f.Add(uint8(i), []byte(r.seed))
		f.Add(uint8(i), []byte(`{}`))
		f.Add(uint8(i), []byte(`{"unknown":1}`))
		f.Add(uint8(i), []byte(`[`))
		f.Add(uint8(i), []byte(`null`))
	}
	f.Fuzz(func(t *testing.T, i uint8, body []byte) {
		r := routes[int(i)%len(routes)]
		rec := fx.do(t.Context(), r.method, r.path, r.caller, body)
		if rec.Code >= 500 {
			t.Fatalf("%s %s with %q = %d: %s", r.method, r.path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s %s with %q = %d as %s", r.method, r.path, body, rec.Code, rec.Header().Get("Content-Type"))
		}
	})
}
