package api

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/traceid"
)

// TraceHeader is the response header that names the request's trace id.
const TraceHeader = "X-Trace-Id"

// Options configure Middleware.
type Options struct {
	// Logger receives one line per request. Required.
	Logger *slog.Logger
	// Verifier checks bearer tokens. Required.
	Verifier Verifier
	// Metrics records per-route counts and latencies; nil records nothing.
	Metrics *Metrics
}

// Middleware wraps the routes of both edges: it gives each request a trace
// id (from traceparent or X-Trace-Id, or a new one) and answers with it,
// identifies the caller from a bearer token, and writes the request log line
// and metrics once the handler is done. A malformed or invalid token is
// refused here with 401 rather than treated as anonymous, so a client with an
// expired token learns it must refresh instead of seeing 403s.
func Middleware(next http.Handler, o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		trace := traceFrom(r.Header, oteltrace.SpanContextFromContext(r.Context()))
		w.Header().Set(TraceHeader, trace)
		ctx := WithTraceID(r.Context(), trace)
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		ctx = withClientAddr(ctx, host)
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}

		actor, err := authenticate(r.Header.Get("Authorization"), o.Verifier)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			WriteProblem(rec, http.StatusUnauthorized, "unauthenticated", err.Error())
		} else {
			ctx = WithActor(ctx, actor)
			r = r.WithContext(ctx)
			next.ServeHTTP(rec, r)
		}

		// The mux sets r.Pattern on the request it was given; label by the
		// pattern, never the raw path, so ids do not explode the label set.
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if span := oteltrace.SpanFromContext(ctx); span.IsRecording() {
			span.SetName(route)
			span.SetAttributes(attribute.String("http.route", route))
			if actor.ID != "" {
				span.SetAttributes(attribute.String("enduser.id", actor.ID))
			}
		}
		elapsed := time.Since(start)
		if o.Metrics != nil {
			o.Metrics.observe(r.Method, route, rec.status, elapsed)
		}
		o.Logger.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", rec.status),
			slog.Float64("latency_ms", float64(elapsed.Microseconds())/1000),
			slog.String("principal", actor.ID),
			slog.String("trace_id", trace),
		)
	})
}

// authenticate returns the caller an Authorization header names: anonymous
// without one.
func authenticate(header string, v Verifier) (service.Actor, error) {
	if header == "" {
		return service.Actor{}, nil
	}
	scheme, raw, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return service.Actor{}, errBadAuthorization
	}
	a, err := v.Verify(strings.TrimSpace(raw))
	if err != nil {
		return service.Actor{}, errInvalidToken
	}
	return a, nil
}

type authError string

func (e authError) Error() string { return string(e) }

const (
	errBadAuthorization authError = "the Authorization header must be \"Bearer <access token>\""
	// The reason a token failed stays in the server: it helps an attacker
	// more than a client, which can only sign in again or refresh.
	errInvalidToken authError = "the access token is invalid or expired: refresh it or sign in again"
)

// traceFrom takes the trace id a caller sent, or makes one. traceparent
// (W3C) wins over X-Trace-Id; a value that does not parse is replaced rather
// than refused, since tracing must never fail a request. When OpenTelemetry
// started a span for the request, a new id is the span's trace id, so that
// Bluepoint's trace and the exported spans share one id.
func traceFrom(h http.Header, span oteltrace.SpanContext) string {
	if tp := h.Get("traceparent"); tp != "" {
		parts := strings.Split(tp, "-")
		if len(parts) == 4 && len(parts[1]) == 32 && isHex(parts[1]) && strings.Trim(parts[1], "0") != "" {
			return strings.ToLower(parts[1])
		}
	}
	if id := h.Get(TraceHeader); validTraceID(id) {
		return id
	}
	if span.IsValid() {
		return span.TraceID().String()
	}
	return NewTraceID()
}

// NewTraceID returns a new W3C trace id: 32 hex digits that begin with the
// time (see package traceid).
func NewTraceID() string { return traceid.String() }

func validTraceID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// Problem is an RFC 9457 problem details body, for the answers given
// outside an edge's own error translation (authentication, panics).
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// ProblemType is the stable type URI of a problem code, relative to the
// API's own address.
func ProblemType(code string) string { return "/problems/" + code }

// WriteProblem answers with an RFC 9457 problem.
func WriteProblem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{Type: ProblemType(code), Title: http.StatusText(status), Status: status, Detail: detail})
}

// recorder remembers the status a handler wrote. It passes Flush and Hijack
// through, since exports stream and GraphQL subscriptions upgrade to a
// websocket.
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() { _ = http.NewResponseController(r.ResponseWriter).Flush() }

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if r.status == http.StatusOK && !r.wroteHeader {
		r.status = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
