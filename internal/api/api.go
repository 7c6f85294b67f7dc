// Package api holds what Bluepoint's two API edges, REST and GraphQL, share
// around a request: the trace id, the caller (from a bearer token), the
// request log line and the HTTP metrics. Each edge then calls the service and
// the read models and translates their errors in one place of its own.
package api

import (
	"context"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/service"
)

type ctxKey int

const (
	actorKey ctxKey = iota
	traceKey
	addrKey
)

// withClientAddr returns ctx carrying the client's address (host only).
func withClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, addrKey, addr)
}

// ClientAddr is the address the request came from: the connection's peer,
// never a forwarded header, which any client could forge to escape a rate
// limit.
func ClientAddr(ctx context.Context) string {
	a, _ := ctx.Value(addrKey).(string)
	return a
}

// WithActor returns ctx carrying the caller.
func WithActor(ctx context.Context, a service.Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFrom returns the caller ctx carries: the zero Actor (anonymous) if none.
func ActorFrom(ctx context.Context) service.Actor {
	a, _ := ctx.Value(actorKey).(service.Actor)
	return a
}

// WithTraceID returns ctx carrying the request's trace id.
func WithTraceID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, traceKey, id)
}

// TraceID returns the trace id ctx carries, or "".
func TraceID(ctx context.Context) string {
	id, _ := ctx.Value(traceKey).(string)
	return id
}

// Role is the caller's role: its account kind, "staff", or "anonymous".
func Role(a service.Actor) string {
	if a.ID == "" {
		return "anonymous"
	}
	return string(a.Kind)
}

// Verifier turns a bearer token into the caller it speaks for.
type Verifier interface {
	Verify(raw string) (service.Actor, error)
}

// IsKind reports whether the caller is signed in as one of kinds.
func IsKind(a service.Actor, kinds ...account.Kind) bool {
	if a.ID == "" {
		return false
	}
	for _, k := range kinds {
		if a.Kind == k {
			return true
		}
	}
	return false
}
