package graphql

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/domain"
)

// The root operation types, whose fields are the API's entry points.
var rootTypes = map[string]bool{"Query": true, "Mutation": true, "Subscription": true}

// guard refuses every entry point to an anonymous caller unless the schema
// marks it @public. Deny by default: a field added to the schema later is
// closed until someone decides otherwise. Introspection (__schema, __type)
// is open, as the schema is the API's public documentation.
func (s *server) guard(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !rootTypes[fc.Object] || strings.HasPrefix(fc.Field.Name, "__") {
		return next(ctx)
	}
	public := fc.Field.Definition != nil && fc.Field.Definition.Directives.ForName("public") != nil
	if api.ActorFrom(ctx).ID == "" && !public {
		return nil, domain.Forbidden("", "sign in first: send a bearer access token")
	}
	return next(ctx)
}

// canSee reports whether the caller may see an account's personal and
// private data: the account itself and staff may.
func canSee(ctx context.Context, accountID string) bool {
	a := api.ActorFrom(ctx)
	return a.ID != "" && (a.ID == accountID || a.IsStaff())
}

// selfOrStaff refuses a caller other than the account itself or staff.
func selfOrStaff(ctx context.Context, accountID string) error {
	if !canSee(ctx, accountID) {
		return domain.Forbidden("", "only the account itself or staff may see this")
	}
	return nil
}

// staffOnly refuses a caller other than staff.
func staffOnly(ctx context.Context) error {
	if !api.ActorFrom(ctx).IsStaff() {
		return domain.Forbidden("", "only staff may see this")
	}
	return nil
}
