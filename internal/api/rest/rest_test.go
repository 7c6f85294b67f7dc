package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
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
