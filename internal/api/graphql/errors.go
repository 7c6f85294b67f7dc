package graphql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain"
)

// Error codes of this edge beyond the domain's own (domain.Code*).
const (
	codeIdempotencyKeyReused = "idempotency_key_reused"
	codeInternal             = "internal"
	codeDepthLimit           = "DEPTH_LIMIT_EXCEEDED"
)

// presentError is the one place errors become GraphQL errors. A domain
// rejection keeps its code and message, which were written for the
// client, and its field, named as the operation names it (argumentPath);
// gqlgen's own errors (a query that does not parse or validate, or breaks
// a limit) pass as they are. Anything else is a failure the client
// can do nothing about: it is logged with the trace id and answered with
// that id only, never its message, which may name tables, hosts or data.
func (s *server) presentError(ctx context.Context, err error) *gqlerror.Error {
	trace := api.TraceID(ctx)
	if de := domain.As(err); de != nil {
		ext := map[string]any{"code": de.Code}
		if de.Field != "" {
			var def *ast.FieldDefinition
			if fc := graphql.GetFieldContext(ctx); fc != nil {
				def = fc.Field.Definition
			}
			ext["field"] = argumentPath(s.schema, def, de.Field)
		}
		return withTrace(pathError(ctx, err, de.Message, ext), trace)
	}
	var reused *command.IdempotencyMismatchError
	if errors.As(err, &reused) {
		return withTrace(pathError(ctx, err, "this idempotency key was already used with other arguments: use a new key for a new request",
			map[string]any{"code": codeIdempotencyKeyReused}), trace)
	}
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Unwrap() == nil {
		return gqlErr
	}
	level := slog.LevelError
	if errors.Is(err, context.Canceled) {
		level = slog.LevelInfo // the client left
	}
	s.deps.Logger.LogAttrs(ctx, level, "graphql: internal error",
		slog.String("path", graphql.GetPath(ctx).String()), slog.String("trace_id", trace), slog.Any("err", err))
	return withTrace(pathError(ctx, err, "internal error (trace "+trace+")", map[string]any{"code": codeInternal}), trace)
}

// pathError is a GraphQL error at the current field with message and
// extensions; the cause stays attached for the server's own use.
func pathError(ctx context.Context, cause error, message string, ext map[string]any) *gqlerror.Error {
	e := &gqlerror.Error{Err: cause, Message: message, Extensions: ext}
	var inner *gqlerror.Error
	if errors.As(cause, &inner) {
		e.Path, e.Locations = inner.Path, inner.Locations
	}
	if e.Path == nil {
		e.Path = graphql.GetPath(ctx)
	}
	return e
}

func withTrace(e *gqlerror.Error, trace string) *gqlerror.Error {
	if trace != "" {
		e.Extensions["traceId"] = trace
	}
	return e
}

// recoverPanic turns a resolver's panic into an error that presentError
// logs, stack included, and answers as an internal error.
func (s *server) recoverPanic(_ context.Context, p any) error {
	return fmt.Errorf("panic in resolver: %v\n%s", p, debug.Stack())
}
