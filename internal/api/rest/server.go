// Package rest is Bluepoint's REST edge: the /v1 routes, described by an
// OpenAPI 3.1 document at /openapi.json and browsable at /docs. Handlers are
// thin: they check the caller's role, call the service or a read-model query,
// and shape the answer; every error goes through problemFor, the one place
// where errors become RFC 9457 problems.
package rest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/auth/loginlimit"
	"github.com/bluepoint/bluepoint/internal/auth/token"
	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/service"
)

// Version is the API version the OpenAPI document states.
const Version = "1.0.0"

// maxBody bounds request bodies: every command fits in a few kilobytes.
const maxBody = 64 << 10

// Deps are what the routes call.
type Deps struct {
	Service *service.Service
	ReadDB  *projection.DB
	Store   eventstore.Store
	Tokens  *token.Manager
	Limiter *loginlimit.Limiter
	// Ops reports on streams and dead letters; nil answers 503 on those
	// routes (a process that runs no stream engine).
	Ops    Ops
	Logger *slog.Logger
}

// Server holds the routes' dependencies.
type Server struct {
	Deps
	api huma.API
}

// Register adds every route to mux and returns the API, whose OpenAPI
// document lists them.
func Register(mux *http.ServeMux, d Deps) huma.API {
	useProblems()
	cfg := huma.DefaultConfig("Bluepoint API", Version)
	cfg.Info.Description = "The community rewards platform: accounts, encounters between civilians and officers, donations, giveaways, merchants' goods and redemptions, the event log and its analytics, and the trace of every request."
	cfg.OpenAPIPath = "/openapi"
	cfg.Servers = []*huma.Server{{URL: "/", Description: "The server that serves this document."}}
	// No $schema links in bodies: clients echo bodies back, and the
	// strict schemas would then have to accept the extra field.
	cfg.CreateHooks = nil
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		bearer: {Type: "http", Scheme: "bearer", BearerFormat: "JWT",
			Description: "An access token from POST /v1/auth/token (EdDSA, 15 minutes)."},
	}
	a := humago.New(mux, cfg)
	s := &Server{Deps: d, api: a}
	s.accountRoutes()
	s.authRoutes()
	s.transactionRoutes()
	s.catalogRoutes()
	s.ruleRoutes()
	s.queryRoutes()
	s.eventRoutes()
	s.opsRoutes()
	mux.HandleFunc("GET /problems/{code}", problemDoc)
	return a
}

const bearer = "bearer"

// op describes one route. Public routes have no security requirement;
// every other route needs a bearer token.
func op(id, method, path, summary, tag string, public bool) huma.Operation {
	o := huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary,
		Tags: []string{tag}, MaxBodyBytes: maxBody}
	// An empty requirement says "no credentials needed", so that every
	// operation states its security.
	o.Security = []map[string][]string{{}}
	if !public {
		o.Security = []map[string][]string{{bearer: {}}}
		o.Errors = []int{http.StatusUnauthorized, http.StatusForbidden}
	}
	o.Errors = append(o.Errors, http.StatusUnprocessableEntity)
	return o
}

// created is a command route's operation: 201 by default.
func created(o huma.Operation) huma.Operation {
	o.DefaultStatus = http.StatusCreated
	return o
}

// signedIn refuses anonymous callers.
func signedIn(ctx context.Context) (service.Actor, error) {
	a := api.ActorFrom(ctx)
	if a.ID == "" {
		return a, errUnauthenticated
	}
	return a, nil
}

// requireKind lets only the given kinds of account through.
func requireKind(ctx context.Context, kinds ...account.Kind) (service.Actor, error) {
	a, err := signedIn(ctx)
	if err != nil {
		return a, err
	}
	if !api.IsKind(a, kinds...) {
		return a, forbidden("this needs a %s account", kindList(kinds))
	}
	return a, nil
}

// holder lets through the accounts that hold points: every kind but staff.
func holder(ctx context.Context) (service.Actor, error) {
	return requireKind(ctx, account.Kinds...)
}

// selfOrStaff lets through the account id itself and staff.
func selfOrStaff(ctx context.Context, id string) (service.Actor, error) {
	a, err := signedIn(ctx)
	if err != nil {
		return a, err
	}
	if a.ID != id && !a.IsStaff() {
		return a, forbidden("only the account itself or staff may see or do this")
	}
	return a, nil
}

// Idempotent is the header every POST accepts.
type Idempotent struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"A key of the client's choosing. A retry with the same key and body gets the first answer again (with Idempotent-Replayed: true); the same key with another body is refused with 422."`
}

// call builds the service call for a command: the caller, the trace id and
// the idempotency key, scoped to the caller so that two clients choosing the
// same key never meet. The fingerprint covers the operation, its path
// parameters and its decoded body, so a retry that only reorders JSON fields
// or changes whitespace is still the same request.
func call(ctx context.Context, key, operation string, request any) service.Call {
	a := api.ActorFrom(ctx)
	c := service.Call{Actor: a, TraceID: api.TraceID(ctx)}
	if key != "" {
		b, _ := json.Marshal(request)
		sum := sha256.Sum256(append([]byte(operation+"\x00"), b...))
		c.IdempotencyKey = a.ID + ":" + key
		c.Fingerprint = hex.EncodeToString(sum[:])
	}
	return c
}

// Result is a command's answer: its status and body, replayed as they were
// the first time when the idempotency key was seen before.
type Result[T any] struct {
	Status   int
	Replayed string `header:"Idempotent-Replayed" doc:"true when this is the stored answer to an earlier request with the same Idempotency-Key."`
	Body     T
}

// result shapes a command's outcome.
func result[T any](out *command.Outcome, err error) (*Result[T], error) {
	if err != nil {
		return nil, err
	}
	r := &Result[T]{Status: out.Result.Status}
	if out.Replayed {
		r.Replayed = "true"
	}
	if len(out.Result.Body) > 0 {
		if err := json.Unmarshal(out.Result.Body, &r.Body); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Body is an output that is only a body.
type Body[T any] struct {
	Body T
}

func body[T any](v T, err error) (*Body[T], error) {
	if err != nil {
		return nil, err
	}
	return &Body[T]{Body: v}, nil
}

// register adds a route whose errors all pass through problemFor.
func register[I, O any](s *Server, o huma.Operation, h func(context.Context, *I) (*O, error)) {
	locs := locationsOf(reflect.TypeFor[I]())
	huma.Register(s.api, o, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		if err != nil {
			return nil, s.problemFor(ctx, err, locs)
		}
		return out, nil
	})
}

var problemsOnce sync.Once

// Document renders the OpenAPI document without serving anything, for
// tools and linters.
func Document() ([]byte, error) {
	return Register(http.NewServeMux(), Deps{}).OpenAPI().MarshalJSON()
}
