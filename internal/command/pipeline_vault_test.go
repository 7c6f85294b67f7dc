package command_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Claims and credentials set in a session go into the command's append.
func TestClaimsAndCredentials(t *testing.T) {
	forEachStore(t, command.Config{}, func(t *testing.T, e *env) {
		a, b := newID(), newID()
		signUp := func(id string) handler {
			return func(ctx context.Context, s *command.Session) (command.Result, error) {
				if _, _, err := command.Load(ctx, s, accounts, id); err != nil {
					return command.Result{}, err
				}
				s.Emit(accounts.Stream(id), deposited{Amount: 1})
				s.Claim("email", "idx-"+a, id)
				s.SetCredential(id, []byte("hash-of-"+id))
				return command.Result{Status: 201}, nil
			}
		}
		e.run(t, &command.Request{Name: "SignUp", Handle: signUp(a), Meta: eventstore.Metadata{TraceID: "tr-" + b}})
		if owner, err := e.store.ClaimOwner(ctxT(t), "email", "idx-"+a); err != nil || owner != a {
			t.Fatalf("claim owner %q, %v", owner, err)
		}
		if secret, err := e.store.Credential(ctxT(t), a); err != nil || string(secret) != "hash-of-"+a {
			t.Fatalf("credential %q, %v", secret, err)
		}
		// The same email for another account is refused, as a rejection.
		_, err := e.p.Run(ctxT(t), &command.Request{Name: "SignUp", Handle: signUp(b), Meta: eventstore.Metadata{TraceID: "tr-" + b}})
		var cce *eventstore.ClaimConflictError
		if !errors.As(err, &cce) || cce.Owner != a {
			t.Fatalf("want ClaimConflictError held by %s, got %v", a, err)
		}
		if e.version(t, b) != 0 {
			t.Fatal("a refused claim still opened the account")
		}
		if _, err := e.store.Credential(ctxT(t), b); !errors.Is(err, eventstore.ErrNotFound) {
			t.Fatalf("a refused command stored a credential: %v", err)
		}
		steps := e.steps(t, "tr-"+b)
		if len(steps) != 2 || steps[1].Status != command.StatusRejected {
			t.Fatalf("trace %+v, want the second sign-up rejected", steps)
		}
	})
}

// The Seal hook sees every emitted event with its stream, and what it
// returns is what the store records.
func TestSealRewritesEvents(t *testing.T) {
	var seen []string
	cfg := command.Config{Seal: func(_ context.Context, stream string, ev any) (any, error) {
		seen = append(seen, stream)
		if d, ok := ev.(deposited); ok {
			d.Amount *= 10
			return d, nil
		}
		return ev, nil
	}}
	forEachStore(t, cfg, func(t *testing.T, e *env) {
		seen = nil
		id := newID()
		e.open(t, id, 7)
		if got := e.balance(t, id); got != 70 {
			t.Fatalf("balance %d: the sealed event was not the one recorded", got)
		}
		if len(seen) != 1 || !strings.HasSuffix(seen[0], id) {
			t.Fatalf("seal saw streams %v", seen)
		}
	})
	failing := command.Config{Seal: func(context.Context, string, any) (any, error) { return nil, errors.New("no key") }}
	forEachStore(t, failing, func(t *testing.T, e *env) {
		id := newID()
		_, err := e.p.Run(ctxT(t), &command.Request{Name: "Deposit", Handle: deposit(id, 1)})
		if err == nil || !strings.Contains(err.Error(), "no key") {
			t.Fatalf("a failing seal must fail the command, got %v", err)
		}
		if e.version(t, id) != 0 {
			t.Fatal("an unsealed event was appended")
		}
	})
}
