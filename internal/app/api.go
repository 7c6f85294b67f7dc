package app

import (
	"context"
	"fmt"
	"net/http"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/api/graphql"
	"github.com/bluepoint/bluepoint/internal/api/rest"
	"github.com/bluepoint/bluepoint/internal/auth/loginlimit"
	"github.com/bluepoint/bluepoint/internal/auth/token"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/telemetry"
)

// startAPI builds the HTTP edges over the started components. The token
// signing key lives in the secrets directory and refresh tokens in the read
// database, which every process of a deployment shares.
func (a *App) startAPI(ctx context.Context) error {
	tokens, created, err := token.New(ctx, token.Config{Dir: a.cfg.SecretsDir, DB: a.readDB.Write,
		Postgres: a.readDB.Dialect == projection.Postgres})
	if err != nil {
		return fmt.Errorf("token signing key in %s: %w", a.cfg.SecretsDir, err)
	}
	if created && !a.cfg.UsesSQLite() {
		a.logger.Warn("created a token signing key; every process of this deployment must share it", "dir", a.cfg.SecretsDir)
	}
	a.tokens = tokens
	a.service.EndSessionsWith(tokens)
	a.metrics = api.NewMetrics()
	a.registerMetrics(a.metrics.Registry())
	tracing, err := telemetry.Start(ctx)
	if err != nil {
		return err
	}
	a.stops = append(a.stops, tracing)
	a.server.Handler = tracing.Handler(a.routes())
	return nil
}

// verifier lets the API edges check access tokens.
type verifier struct{ tokens *token.Manager }

func (v verifier) Verify(raw string) (service.Actor, error) {
	c, err := v.tokens.Verify(raw)
	if err != nil {
		return service.Actor{}, err
	}
	return service.Actor{ID: c.Subject, Kind: account.Kind(c.Role)}, nil
}

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	a.healthRoutes(mux)
	mux.Handle("GET /metrics", a.metrics.Handler())
	mux.HandleFunc("GET /.well-known/jwks.json", rest.JWKS(a.tokens))
	rest.Register(mux, rest.Deps{Service: a.service, ReadDB: a.readDB, Store: a.store, Tokens: a.tokens,
		Limiter: loginlimit.New(loginlimit.Config{}), Ops: a.ops(), Logger: a.logger})
	mux.Handle("/graphql", graphql.New(graphql.Deps{Service: a.service, ReadDB: a.readDB, Store: a.store,
		Verifier: verifier{a.tokens}, Logger: a.logger}))
	return api.Middleware(problemFallback(mux), api.Options{Logger: a.logger, Verifier: verifier{a.tokens}, Metrics: a.metrics})
}

// problemFallback answers what no route matches (404, or 405 with Allow)
// as a problem too, rather than the mux's plain text.
func problemFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &statusProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		code, detail := "not_found", "no route "+r.Method+" "+r.URL.Path+"; see /openapi.json"
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			code, detail = "method_not_allowed", r.URL.Path+" does not take "+r.Method+"; it takes "+probe.header.Get("Allow")
		} else {
			probe.status = http.StatusNotFound
		}
		api.WriteProblem(w, probe.status, code, detail)
	})
}

// statusProbe records what the mux's fallback handler would answer.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(code int)        { p.status = code }
