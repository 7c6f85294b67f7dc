package telemetry_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/telemetry"
)

type noTokens struct{}

func (noTokens) Verify(string) (service.Actor, error) { return service.Actor{}, nil }

// collector is an OTLP/HTTP endpoint that keeps what it receives.
type collector struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	if r.URL.Path == "/v1/traces" {
		c.bodies = append(c.bodies, b)
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (c *collector) received() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Join(c.bodies, nil)
}

func handler(t *testing.T, tr *telemetry.Tracing) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/things/{id}", func(w http.ResponseWriter, _ *http.Request) {})
	return tr.Handler(api.Middleware(mux, api.Options{Logger: slog.New(slog.DiscardHandler), Verifier: noTokens{}}))
}

func TestSpansReachTheExporterWithTheRequestsTraceID(t *testing.T) {
	c := &collector{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	tr, err := telemetry.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	before := time.Now().UnixMilli()
	handler(t, tr).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/things/secret-42", nil))
	after := time.Now().UnixMilli()
	if err := tr.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	id, err := hex.DecodeString(rec.Header().Get(api.TraceHeader))
	if err != nil || len(id) != 16 {
		t.Fatalf("trace id %q is not the W3C shape", rec.Header().Get(api.TraceHeader))
	}
	// The span's trace id is made as Bluepoint's own: it begins with the
	// time in milliseconds.
	if ms := int64(binary.BigEndian.Uint64(append([]byte{0, 0}, id[:6]...))); ms < before || ms > after {
		t.Fatalf("trace id %x begins with %d ms; want between %d and %d", id, ms, before, after)
	}
	got := c.received()
	if !bytes.Contains(got, id) {
		t.Fatal("no exported span carries the trace id the response named")
	}
	// The span's name (field 5 of a span, tag 0x2a) is the route pattern.
	name := "GET /v1/things/{id}"
	if !bytes.Contains(got, append([]byte{0x2a, byte(len(name))}, name...)) {
		t.Fatalf("no span is named by the route pattern: %q", got)
	}
}

func TestNothingWithoutAnExporter(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tr, err := telemetry.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	inner := http.NotFoundHandler()
	if h := tr.Handler(inner); fmt.Sprintf("%p", h) != fmt.Sprintf("%p", inner) {
		t.Fatal("without an exporter the handler should be left as it is")
	}
	if telemetry.Enabled(func(string) string { return "" }) {
		t.Fatal("enabled without an endpoint")
	}
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}
	if telemetry.Enabled(func(k string) string { return env[k] }) {
		t.Fatal("enabled although OTEL_SDK_DISABLED")
	}
	if err := tr.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
}
