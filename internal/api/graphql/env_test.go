package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/readmodel/eventlog"
	"github.com/bluepoint/bluepoint/internal/readmodel/features"
	"github.com/bluepoint/bluepoint/internal/readmodel/users"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/service/servicetest"
)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// verifier is a stand-in for the token service: each token names an actor.
type verifier struct {
	mu     sync.Mutex
	tokens map[string]service.Actor
}

func (v *verifier) Verify(raw string) (service.Actor, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	a, ok := v.tokens[raw]
	if !ok {
		return service.Actor{}, errors.New("unknown token")
	}
	return a, nil
}

// env is a real service on a real event store, the read models on a read
// database, and the GraphQL handler behind the shared middleware on a
// test server. Read models are brought up to date by sync, synchronously,
// as the projection consumers would.
type env struct {
	store   eventstore.Store
	svc     *service.Service
	db      *projection.DB
	runner  *projection.Runner
	srv     *server
	http    *httptest.Server
	tokens  *verifier
	logs    *syncBuffer
	staff   string // the staff member's token
	mu      sync.Mutex
	applied eventstore.Position
	n       int
}

// seq returns a number unique within the env.
func (e *env) seq() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	return e.n
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store := storetest.OpenSQLite(t, storetest.Options{})
	db, err := projection.OpenSQLite(t.TempDir() + "/read.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newEnvOn(t, store, db)
}

func newEnvOn(t *testing.T, store eventstore.Store, db *projection.DB) *env {
	t.Helper()
	svc := servicetest.New(t, store, nil)
	staff := servicetest.Staff(t, svc, "Olive Operator", "ops@example.org")
	runner, err := projection.New(ctxT(t), projection.Config{DB: db, Store: store,
		Projections: []projection.Projection{users.Projection{}, eventlog.New(), features.New()}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: store, svc: svc, db: db, runner: runner, logs: &syncBuffer{},
		tokens: &verifier{tokens: map[string]service.Actor{}}, staff: "staff-token"}
	e.tokens.tokens[e.staff] = staff
	logger := slog.New(slog.NewJSONHandler(e.logs, nil))
	e.srv = newServer(Deps{Service: svc, ReadDB: db, Store: store, Verifier: e.tokens, Logger: logger})
	e.srv.poll = 20 * time.Millisecond
	mux := http.NewServeMux()
	mux.Handle("/graphql", api.Middleware(e.srv.handler, api.Options{Logger: logger, Verifier: e.tokens}))
	e.http = httptest.NewServer(mux)
	t.Cleanup(e.http.Close)
	e.sync(t)
	return e
}

// login gives an actor a token.
func (e *env) login(token string, a service.Actor) {
	e.tokens.mu.Lock()
	defer e.tokens.mu.Unlock()
	e.tokens.tokens[token] = a
}

// sync applies every event not yet applied to every read model.
func (e *env) sync(t testing.TB) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		batch, err := e.store.ReadAll(ctxT(t), &eventstore.ReadAllParams{After: e.applied, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			return
		}
		for _, ev := range batch {
			for _, name := range e.runner.Names() {
				if err := e.runner.Apply(ctxT(t), name, ev); err != nil {
					t.Fatalf("apply %s to %s: %v", ev.Type, name, err)
				}
			}
		}
		e.applied = batch[len(batch)-1].Position
	}
}

// gqlError is one error of a response.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	status int
	header http.Header
}

// code is the code of the first error, "" when there is none.
func (r response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// request is one GraphQL request over HTTP.
type request struct {
	token   string
	query   string
	vars    map[string]any
	traceID string
}

func (e *env) post(t testing.TB, rq request) response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": rq.query, "variables": rq.vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, e.http.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if rq.token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.token)
	}
	if rq.traceID != "" {
		req.Header.Set(api.TraceHeader, rq.traceID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{status: res.StatusCode, header: res.Header}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body %s: %v", res.StatusCode, raw, err)
	}
	return out
}

// gql runs a request that must succeed and decodes its data into a value
// of type T.
func gql[T any](t testing.TB, e *env, token, query string, vars map[string]any) T {
	t.Helper()
	res := e.post(t, request{token: token, query: query, vars: vars})
	if len(res.Errors) > 0 {
		t.Fatalf("%s\nerrors: %+v", strings.TrimSpace(query), res.Errors)
	}
	var v T
	if err := json.Unmarshal(res.Data, &v); err != nil {
		t.Fatalf("decode %s: %v", res.Data, err)
	}
	return v
}

// refused runs a request that must fail with code on its first error.
func refused(t testing.TB, e *env, token, code, query string, vars map[string]any) response {
	t.Helper()
	res := e.post(t, request{token: token, query: query, vars: vars})
	if res.code() != code {
		t.Fatalf("%s\nwant error code %q, got data %s errors %+v", strings.TrimSpace(query), code, res.Data, res.Errors)
	}
	return res
}

// signUp opens an account through GraphQL, anonymously, and logs it in
// under token; staff verify the kinds that need it.
func (e *env) signUp(t testing.TB, token, kind, name string, profile map[string]any) string {
	t.Helper()
	in := map[string]any{"kind": kind, "name": name, "email": strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org",
		"password": "s3cret-enough", "phone": "+44 20 7946 0000", "profile": profile}
	res := gql[struct {
		OpenAccount AccountRef `json:"openAccount"`
	}](t, e, "", `mutation($in: OpenAccountInput!) { openAccount(input: $in) { id kind status } }`, map[string]any{"in": in})
	ref := res.OpenAccount
	if string(ref.Kind) != kind {
		t.Fatalf("opened %+v, want kind %s", ref, kind)
	}
	if ref.Status == AccountStatusPending {
		gql[map[string]any](t, e, e.staff, `mutation($id: ID!) { verifyAccount(id: $id) { status } }`, map[string]any{"id": ref.ID})
	}
	e.login(token, service.Actor{ID: ref.ID, Kind: account.Kind(valueOf(ref.Kind))})
	return ref.ID
}

func pretty(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
