package graphql

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/99designs/gqlgen/graphql"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/service"
)

// call describes the mutation being resolved to the service: the caller,
// the trace, and the client's idempotency key scoped to the caller, so
// that two callers never share a key.
func call(ctx context.Context, idempotencyKey *string) service.Call {
	actor := api.ActorFrom(ctx)
	c := service.Call{Actor: actor, TraceID: api.TraceID(ctx), Fingerprint: fingerprint(ctx)}
	if key := deref(idempotencyKey); key != "" {
		c.IdempotencyKey = actor.ID + ":" + key
	}
	return c
}

// fingerprint identifies a mutation's content: its name and arguments
// (the key aside). A retry with the same key must carry the same
// fingerprint, or the key is refused as reused. encoding/json writes map
// keys in order, so the same arguments always give the same hash.
func fingerprint(ctx context.Context) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return ""
	}
	args := maps.Clone(fc.Args)
	delete(args, "idempotencyKey")
	b, err := json.Marshal(args)
	if err != nil {
		b = fmt.Appendf(nil, "%#v", args) // every argument type marshals; this is a fallback only
	}
	sum := sha256.Sum256(append([]byte(fc.Field.Name+"\n"), b...))
	return hex.EncodeToString(sum[:])
}

// result decodes a command's result body, which the service writes as
// JSON of its result types.
func result[T any](out *command.Outcome, err error) (T, error) {
	var v T
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(out.Result.Body, &v); err != nil {
		return v, fmt.Errorf("decode the result of a command as %T: %w", v, err)
	}
	return v, nil
}
