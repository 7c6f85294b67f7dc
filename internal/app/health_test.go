package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bluepoint/bluepoint/internal/config"
	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// pingStore is an event store whose Ping is the test's to decide; every
// other method panics, as the health endpoints must not call them.
type pingStore struct {
	eventstore.Store
	ping func(context.Context) error
}

func (s pingStore) Ping(ctx context.Context) error { return s.ping(ctx) }

func newTestApp(t *testing.T, ping func(context.Context) error) *App {
	t.Helper()
	a, err := New(config.Config{}.WithDefaults(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a.store = pingStore{ping: ping}
	return a
}

// healthHandler serves the probes the way the running app does.
func healthHandler(a *App) http.Handler {
	mux := http.NewServeMux()
	a.healthRoutes(mux)
	return problemFallback(mux)
}

func get(t *testing.T, a *App, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	healthHandler(a).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestHealthz(t *testing.T) {
	// Liveness does not depend on the store.
	a := newTestApp(t, func(context.Context) error { return errors.New("down") })
	rec := get(t, a, "/healthz")
	if rec.Code != http.StatusOK || rec.Body.String() != `{"status":"ok"}`+"\n" {
		t.Fatalf("GET /healthz = %d %q, want 200 {\"status\":\"ok\"}", rec.Code, rec.Body)
	}
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name       string
		ping       func(context.Context) error
		wantStatus int
		wantDetail string
	}{
		{"store answers", func(context.Context) error { return nil }, http.StatusOK, ""},
		{"store fails", func(context.Context) error { return errors.New("connection refused to db.internal") },
			http.StatusServiceUnavailable, "the event store did not answer"},
		{"store hangs", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			http.StatusServiceUnavailable, "the event store did not answer within 2s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, newTestApp(t, tt.ping), "/readyz")
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusOK {
				if rec.Body.String() != `{"status":"ok"}`+"\n" {
					t.Errorf("body %q", rec.Body)
				}
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			var p problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			want := problem{Type: "about:blank", Title: "Service Unavailable", Status: 503, Detail: tt.wantDetail}
			if p != want {
				t.Errorf("problem %+v, want %+v", p, want)
			}
		})
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	a := newTestApp(t, func(context.Context) error { return nil })
	if rec := get(t, a, "/nope"); rec.Code != http.StatusNotFound || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("GET /nope = %d %s, want a 404 problem", rec.Code, rec.Header().Get("Content-Type"))
	}
	rec := httptest.NewRecorder()
	healthHandler(a).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/healthz", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") == "" || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("POST /healthz = %d %v, want a 405 problem with Allow", rec.Code, rec.Header())
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	cfg := config.Config{}.WithDefaults()
	cfg.LogLevel = "loud"
	if _, err := New(cfg, slog.Default()); err == nil {
		t.Fatal("New accepted an invalid config")
	}
}
