package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/bluepoint/bluepoint/internal/api"
)

// readyTimeout bounds the store ping behind /readyz, so a hung database
// makes the process unready instead of hanging the probe.
const readyTimeout = 2 * time.Second

// healthRoutes adds the probes a load balancer or orchestrator calls.
func (a *App) healthRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", a.handleHealthz)
	mux.HandleFunc("GET /readyz", a.handleReadyz)
}

// handleHealthz answers while the process is up: liveness only.
func (a *App) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, "application/json", map[string]string{"status": "ok"})
}

// handleReadyz answers 200 when the event store answers a ping in time, and
// 503 with an RFC 9457 problem otherwise, so a load balancer stops sending
// traffic to a process that cannot serve it.
func (a *App) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	err := a.store.Ping(ctx)
	if err == nil {
		writeJSON(w, http.StatusOK, "application/json", map[string]string{"status": "ok"})
		return
	}
	// The error may name hosts or users: log it, answer in general terms.
	a.logger.WarnContext(r.Context(), "readiness check failed", "err", err)
	detail := "the event store did not answer"
	if errors.Is(err, context.DeadlineExceeded) {
		detail = "the event store did not answer within " + readyTimeout.String()
	}
	writeJSON(w, http.StatusServiceUnavailable, "application/problem+json", problem{
		Type:   "about:blank",
		Title:  http.StatusText(http.StatusServiceUnavailable),
		Status: http.StatusServiceUnavailable,
		Detail: detail,
	})
}

// problem is the RFC 9457 body both API edges answer with.
type problem = api.Problem

func writeJSON(w http.ResponseWriter, status int, contentType string, body any) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
