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
	cfg := command.Config{Seal: func() command.Sealer {
		return command.SealFunc(func(_ context.Context, stream string, ev any) (any, error) {
			seen = append(seen, stream)
			if d, ok := ev.(deposited); ok {
				d.Amount *= 10
				return d, nil
			}
			return ev, nil
		})
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
	failing := command.Config{Seal: func() command.Sealer {
		return command.SealFunc(func(context.Context, string, any) (any, error) { return nil, errors.New("no key") })
	}}
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

// keyMaker is a Sealer that makes a data key for its subject on the first
// attempt only, as a pii.Sealing does when the keyring has no key yet and
// does not when it finds the one another command stored.
type keyMaker struct {
	subject  string
	attempts *int
}

func (k keyMaker) Seal(_ context.Context, _ string, ev any) (any, error) { return ev, nil }

func (k keyMaker) DataKeys() []eventstore.DataKey {
	if *k.attempts > 1 {
		return nil
	}
	return []eventstore.DataKey{{Subject: k.subject, Wrapped: []byte("mine")}}
}

// The data keys a sealer makes are stored with the events; when another
// command stored the subject's key first, the command runs again (and a
// real sealer then seals with the stored key).
func TestSealerDataKeysGoWithTheAppend(t *testing.T) {
	var subject string
	attempts := 0
	cfg := command.Config{Seal: func() command.Sealer {
		attempts++
		return keyMaker{subject: subject, attempts: &attempts}
	}}
	forEachStore(t, cfg, func(t *testing.T, e *env) {
		subject, attempts = newID(), 0
		e.open(t, subject, 1)
		if got, err := e.store.DataKey(ctxT(t), subject); err != nil || string(got) != "mine" {
			t.Fatalf("key made while sealing: %q, %v", got, err)
		}
		if attempts != 1 {
			t.Fatalf("%d attempts for an uncontested key", attempts)
		}

		subject, attempts = newID(), 0
		if _, err := e.store.PutDataKey(ctxT(t), subject, []byte("theirs")); err != nil {
			t.Fatal(err)
		}
		out, err := e.p.Run(ctxT(t), &command.Request{Name: "Deposit", Handle: deposit(subject, 5)})
		if err != nil {
			t.Fatalf("a key stored first must make the command run again, not fail: %v", err)
		}
		if out.Attempts != 2 || attempts != 2 {
			t.Fatalf("attempts: outcome %d, sealers %d; want 2", out.Attempts, attempts)
		}
		if got, _ := e.store.DataKey(ctxT(t), subject); string(got) != "theirs" {
			t.Fatalf("the stored key was replaced: %q", got)
		}
		if v := e.version(t, subject); v != 1 {
			t.Fatalf("stream version %d after one deposit", v)
		}
	})
}
