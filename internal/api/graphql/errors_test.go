package graphql

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain"
)

// TestInternalErrorsAreNotShown breaks the read database under a query:
// the client gets "internal error" and the trace id, the log gets the
// cause.
func TestInternalErrorsAreNotShown(t *testing.T) {
	e := newEnv(t)
	civ := e.signUp(t, "civ", "CIVILIAN", "Cara Civilian", nil)
	e.sync(t)
	e.db.Read.Close()

	const trace = "broken-read-db-0001"
	res := e.post(t, request{token: "civ", traceID: trace, query: `query($id: ID!) { account(id: $id) { id } }`, vars: map[string]any{"id": civ}})
	if res.code() != codeInternal || res.Errors[0].Message != "internal error (trace "+trace+")" || res.Errors[0].Extensions["traceId"] != trace {
		t.Fatalf("errors %+v", res.Errors)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "database is closed") || !strings.Contains(logs, trace) {
		t.Fatalf("the cause is not logged with the trace: %s", logs)
	}
}

func TestPresentError(t *testing.T) {
	e := newEnv(t)
	ctx := api.WithTraceID(context.Background(), "t-1")
	for _, c := range []struct {
		err         error
		code, field string
		message     string
	}{
		{err: fmt.Errorf("wrapped: %w", domain.Invalid("points", "must be positive")), code: "invalid", field: "points", message: "must be positive"},
		{err: domain.AccountClosed("the account is closed"), code: "account_closed", message: "the account is closed"},
		{err: fmt.Errorf("donate: %w", &command.IdempotencyMismatchError{Key: "k", Command: "Donate"}), code: codeIdempotencyKeyReused},
		{err: gqlerror.Errorf("Cannot query field \"nope\" on type \"Query\"."), message: "Cannot query field \"nope\" on type \"Query\"."},
		{err: e.srv.recoverPanic(ctx, "boom"), code: codeInternal, message: "internal error (trace t-1)"},
		{err: fmt.Errorf("dial tcp 10.0.0.1:5432: connection refused"), code: codeInternal, message: "internal error (trace t-1)"},
	} {
		got := e.srv.presentError(ctx, c.err)
		code, _ := got.Extensions["code"].(string)
		field, _ := got.Extensions["field"].(string)
		if code != c.code || field != c.field || (c.message != "" && got.Message != c.message) {
			t.Errorf("%v: presented as %q, code %q, field %q", c.err, got.Message, code, field)
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, "boom") || !strings.Contains(logs, "connection refused") {
		t.Fatalf("internal errors not logged: %s", logs)
	}
}
