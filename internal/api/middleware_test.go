package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/service"
)

type fakeVerifier map[string]service.Actor

func (f fakeVerifier) Verify(raw string) (service.Actor, error) {
	a, ok := f[raw]
	if !ok {
		return a, errors.New("bad token: signature")
	}
	return a, nil
}

func serve(t *testing.T, req *http.Request) (*httptest.ResponseRecorder, map[string]any, service.Actor) {
	t.Helper()
	var logs bytes.Buffer
	var seen service.Actor
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		seen = ActorFrom(r.Context())
		if TraceID(r.Context()) != w.Header().Get(TraceHeader) {
			t.Errorf("context trace %q, header %q", TraceID(r.Context()), w.Header().Get(TraceHeader))
		}
		w.WriteHeader(http.StatusTeapot)
	})
	h := Middleware(mux, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Verifier: fakeVerifier{
		"good": {ID: "acc-1", Kind: account.Officer}}, Metrics: NewMetrics()})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1: %q", len(lines), logs.String())
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	return rec, line, seen
}

func TestMiddlewareLogsOneLineWithoutSecrets(t *testing.T) {
	req := httptest.NewRequest("GET", "/v1/things/secret-id-42?email=a@b.c", nil)
	req.Header.Set("Authorization", "Bearer good")
	rec, line, seen := serve(t, req)
	if rec.Code != http.StatusTeapot || seen.ID != "acc-1" {
		t.Fatalf("status %d, actor %+v", rec.Code, seen)
	}
	if line["route"] != "GET /v1/things/{id}" || line["status"] != float64(418) || line["principal"] != "acc-1" ||
		line["method"] != "GET" || line["trace_id"] != rec.Header().Get(TraceHeader) || line["latency_ms"] == nil {
		t.Fatalf("log line %v", line)
	}
	raw, _ := json.Marshal(line)
	for _, secret := range []string{"secret-id-42", "a@b.c", "good"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the log line holds %q: %s", secret, raw)
		}
	}
}

func TestMiddlewareTraceIDs(t *testing.T) {
	for _, c := range []struct {
		name, header, value, want string
	}{
		{"traceparent", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"x-trace-id", TraceHeader, "my-trace_1", "my-trace_1"},
		{"bad traceparent", "traceparent", "00-zz-00f067aa0ba902b7-01", ""},
		{"zero traceparent", "traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", ""},
		{"bad x-trace-id", TraceHeader, "has spaces in it", ""},
		{"none", "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/v1/things/1", nil)
			if c.header != "" {
				req.Header.Set(c.header, c.value)
			}
			rec, _, _ := serve(t, req)
			got := rec.Header().Get(TraceHeader)
			if c.want != "" && got != c.want {
				t.Fatalf("trace id %q, want %q", got, c.want)
			}
			if c.want == "" && (len(got) != 32 || !isHex(got)) {
				t.Fatalf("a new trace id should be 32 hex digits, got %q", got)
			}
		})
	}
}

func TestMiddlewareRefusesBadTokens(t *testing.T) {
	for _, h := range []string{"Bearer wrong", "Basic dXNlcjpwdw==", "Bearer ", "good"} {
		req := httptest.NewRequest("GET", "/v1/things/1", nil)
		req.Header.Set("Authorization", h)
		rec, line, seen := serve(t, req)
		if rec.Code != http.StatusUnauthorized || seen.ID != "" || line["status"] != float64(401) {
			t.Errorf("%q: status %d, actor %+v", h, rec.Code, seen)
		}
		if rec.Header().Get("Content-Type") != "application/problem+json" || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%q: headers %v", h, rec.Header())
		}
		if strings.Contains(rec.Body.String(), "signature") {
			t.Errorf("%q: the answer tells why the token failed: %s", h, rec.Body)
		}
	}
	// No header: anonymous, not refused.
	rec, _, seen := serve(t, httptest.NewRequest("GET", "/v1/things/1", nil))
	if rec.Code != http.StatusTeapot || seen.ID != "" {
		t.Errorf("anonymous: %d %+v", rec.Code, seen)
	}
}
