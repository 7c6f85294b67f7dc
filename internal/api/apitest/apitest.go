// Package apitest starts a whole Bluepoint process for tests that drive it
// over HTTP, the way a client would: on the embedded default or on Postgres
// and an external NATS server.
package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/app"
	"github.com/bluepoint/bluepoint/internal/config"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/stream"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// Server is a running process and the staff account it was given.
type Server struct {
	URL    string
	App    *app.App
	Config config.Config
	Staff  Login
	client *http.Client
}

// Login is an account's credentials.
type Login struct {
	ID       string
	Email    string
	Password string
}

// Backend names a way to run the process.
type Backend struct {
	Name  string
	Start func(t *testing.T) *Server
}

// Backends are the embedded default and, where available, Postgres with
// an external NATS server (required in CI).
func Backends() []Backend {
	return []Backend{{"embedded", StartEmbedded}, {"postgres", StartPostgres}}
}

// StartEmbedded runs the embedded default in a temporary data directory.
func StartEmbedded(t *testing.T) *Server {
	cfg := config.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"}.WithDefaults()
	var out bytes.Buffer
	s := start(t, cfg, &out)
	m := regexp.MustCompile(`email:\s+(\S+)\s+password:\s+(\S+)\s+id:\s+(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("the first start printed no staff credentials: %q", out.String())
	}
	s.Staff = Login{Email: m[1], Password: m[2], ID: m[3]}
	return s
}

// StartPostgres migrates a fresh schema with its own application role,
// serves from it with the external NATS server, and drops both at the end.
func StartPostgres(t *testing.T) *Server {
	url, natsURL := testenv.Postgres(t), testenv.NATS(t)
	d := NewDeployment(t, url)
	suffix := d.Suffix
	cfg := config.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", DatabaseURL: url,
		DatabaseSchema: d.Schema, AppRole: d.Role, NATSURL: natsURL,
		StreamPrefix: "bp_api_" + suffix + "_"}.WithDefaults()
	if _, err := app.Migrate(t.Context(), app.MigrateParams{Config: cfg}); err != nil {
		t.Fatal(err)
	}
	staff := Login{Email: "staff-" + suffix + "@example.org", Password: "staff password " + suffix}
	id, err := app.CreateStaff(t.Context(), app.CreateStaffParams{Config: cfg, Name: "Staff", Email: staff.Email, Password: staff.Password}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	staff.ID = id
	// Registered before start's, so it runs after the server stopped.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := stream.DeletePrefixed(ctx, natsURL, cfg.StreamPrefix); err != nil {
			t.Errorf("delete the test's streams: %v", err)
		}
	})
	s := start(t, cfg, io.Discard)
	s.Staff = staff
	return s
}

func start(t *testing.T, cfg config.Config, out io.Writer) *Server {
	t.Helper()
	a, err := app.New(cfg, slog.New(slog.DiscardHandler), app.WithOutput(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return &Server{URL: "http://" + a.Addr().String(), App: a, Config: cfg, client: &http.Client{Timeout: time.Minute}}
}

// Response is an answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Request is one call: Body is marshalled as JSON unless it is []byte.
type Request struct {
	Method, Path string
	Token        string
	Body         any
	Header       map[string]string
}

// Do sends r and reads the answer.
func (s *Server) Do(t testing.TB, r Request) Response {
	t.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(t.Context(), r.Method, s.URL+r.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", r.Method, r.Path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Expect sends r and fails the test unless the status is want; it returns
// the answer.
func (s *Server) Expect(t testing.TB, want int, r Request) Response {
	t.Helper()
	resp := s.Do(t, r)
	if resp.Status != want {
		t.Fatalf("%s %s = %d, want %d: %s", r.Method, r.Path, resp.Status, want, resp.Body)
	}
	return resp
}

// SignIn returns an access token for l.
func (s *Server) SignIn(t testing.TB, l Login) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	s.Expect(t, http.StatusOK, Request{Method: http.MethodPost, Path: "/v1/auth/token",
		Body: map[string]string{"email": l.Email, "password": l.Password}}).JSON(t, &tok)
	return tok.AccessToken
}

// Eventually retries check until it returns true or a deadline passes:
// read models catch up with commands asynchronously.
func Eventually(t testing.TB, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Deployment names a fresh Postgres schema and application role of one test.
type Deployment struct {
	Schema, Role string
	// Suffix is the random part of both names.
	Suffix string
}

// NewDeployment names a schema and a role no other test uses, and drops
// both, with the read schema, when the test ends.
func NewDeployment(t testing.TB, url string) Deployment {
	suffix := randomHex(t)
	d := Deployment{Schema: "bp_test_" + suffix, Role: "bp_test_app_" + suffix, Suffix: suffix}
	t.Cleanup(func() { dropSchemaAndRole(t, url, d.Schema, d.Role) })
	return d
}

func randomHex(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// dropSchemaAndRole removes what a test's deployment created.
func dropSchemaAndRole(t testing.TB, url, schema, role string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Errorf("clean up: %v", err)
		return
	}
	defer conn.Close(ctx)
	roleIdent := pgx.Identifier{role}.Sanitize()
	for _, stmt := range []string{
		"DROP SCHEMA IF EXISTS " + pgx.Identifier{schema}.Sanitize() + " CASCADE",
		"DROP SCHEMA IF EXISTS " + pgx.Identifier{postgres.ReadSchema(schema)}.Sanitize() + " CASCADE",
		"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '" + role + "') THEN EXECUTE 'DROP OWNED BY " + roleIdent + "'; END IF; END $$",
		"DROP ROLE IF EXISTS " + roleIdent,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Errorf("clean up: %s: %v", stmt, err)
		}
	}
}
