// Package graphql is Bluepoint's GraphQL edge, served at /graphql: queries
// over the read models, one mutation per command, and subscriptions over a
// websocket to a trace's steps and to new events of the log.
//
// It follows the REST edge's rules: the same bearer tokens and the same
// answers to who may see and do what. Errors are translated in one place
// (presentError); every field that lists accounts goes through one batched
// loader per response (no query per row); and each operation is checked for
// depth and complexity before it runs, so that one request cannot make the
// server walk the whole graph.
package graphql

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/service"
)

// Deps is what the edge calls.
type Deps struct {
	// Service runs the commands. Required.
	Service *service.Service
	// ReadDB holds the read models the queries answer from. Required.
	ReadDB *projection.DB
	// Store gives trace timelines. Required.
	Store eventstore.Store
	// Verifier checks the bearer token a websocket sends in connection_init
	// (plain requests are authenticated by api.Middleware). Required.
	Verifier api.Verifier
	// Logger receives internal errors. Default slog.Default().
	Logger *slog.Logger
}

// Limits every operation is checked against before it runs.
const (
	// MaxDepth is how deeply selections may nest (introspection aside).
	MaxDepth = 10
	// MaxComplexity bounds the estimated work of an operation: one per
	// field, times the page size for paged lists (see complexity.go).
	MaxComplexity = 5000
	// maxBody caps a request body: a query is text, not an upload.
	maxBody = 1 << 20
)

// server holds what the resolvers and the middleware share.
type server struct {
	deps    Deps
	stats   stats
	handler http.Handler
	// poll is how often subscriptions look for news.
	poll time.Duration
	// lifetime bounds a subscription, so that a forgotten one ends.
	lifetime time.Duration
	// schema is the parsed schema, where errors look up arguments.
	schema *ast.Schema
}

// New returns the handler for /graphql: GraphQL over POST and GET, GraphiQL
// for a browser (a GET that accepts text/html), and subscriptions over a
// websocket (graphql-transport-ws and graphql-ws). Wrap it in api.Middleware,
// which identifies the caller of plain requests.
func New(d Deps) http.Handler { return newServer(d).handler }

func newServer(d Deps) *server {
	// Missing dependencies are a wiring mistake: fail at start, not on the
	// first request that needs one.
	if d.Service == nil || d.ReadDB == nil || d.Store == nil || d.Verifier == nil {
		panic("graphql: Deps.Service, ReadDB, Store and Verifier are required")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	s := &server{deps: d, poll: 150 * time.Millisecond, lifetime: time.Hour}
	es := NewExecutableSchema(Config{Resolvers: &Resolver{s: s}, Complexity: complexity()})
	s.schema = es.Schema()
	srv := handler.New(es)
	srv.AddTransport(transport.Websocket{
		Implementation:        closingWebsocket{},
		InitFunc:              s.websocketInit,
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 15 * time.Second,
		PingPongInterval:      15 * time.Second,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	// Introspection stays on in every mode: the schema is the public API's
	// documentation, and nothing in it is secret.
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(depthLimit{max: MaxDepth})
	srv.Use(extension.FixedComplexityLimit(MaxComplexity))
	srv.SetErrorPresenter(s.presentError)
	srv.SetRecoverFunc(s.recoverPanic)
	srv.AroundOperations(s.aroundOperation)
	srv.AroundResponses(s.aroundResponse)
	srv.AroundFields(s.guard)

	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.Header.Get("Upgrade") == "" && wantsHTML(r) {
			// GraphiQL posts to the address it was served from, wherever
			// the handler is mounted.
			playground.Handler("Bluepoint GraphQL", r.URL.Path).ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Upgrade") != "" {
			r = r.WithContext(withSocket(r.Context()))
		} else if r.Body != nil {
			if r.ContentLength > maxBody {
				tooLarge(w)
				return
			}
			// A body without a length is cut off at the cap instead.
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		srv.ServeHTTP(w, r)
	})
	return s
}

// wantsHTML reports whether a GET comes from a browser rather than a client
// sending a query in the URL.
func wantsHTML(r *http.Request) bool {
	return r.URL.Query().Get("query") == "" && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// tooLarge answers a request whose body is over the cap, as a GraphQL
// error so that clients read it like any other.
func tooLarge(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message":    fmt.Sprintf("the request body is over %d bytes", maxBody),
		"extensions": map[string]any{"code": "request_too_large"},
	}}})
}
