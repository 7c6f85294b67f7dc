package command_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/codec"
	"github.com/bluepoint/bluepoint/internal/command"
	domainaccount "github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/pii"
)

// The pipeline seals personal fields on the way out and the codec does not
// open them on the way in, so a cached account state holds tokens only: the
// plaintext a handler emitted must never reach the cache, and after an
// erasure the tokens it holds must open to nothing.
func TestCacheHoldsNoPersonalData(t *testing.T) {
	ctx := ctxT(t)
	reg := codec.NewRegistry()
	domainaccount.Register(reg)
	master, err := pii.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	cipher, err := pii.NewCipher(master, pii.NewMemoryKeyring())
	if err != nil {
		t.Fatal(err)
	}
	prefix := domainaccount.Category + "-"
	p, err := command.New(openSQLite(t), reg, command.Config{
		Seal: func() command.Sealer {
			return command.SealFunc(func(ctx context.Context, streamID string, ev any) (any, error) {
				return pii.SealValue(ctx, cipher, strings.TrimPrefix(streamID, prefix), ev)
			})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	people := command.Aggregate[domainaccount.State]{
		Category: domainaccount.Category, Initial: domainaccount.Initial, Evolve: domainaccount.Evolve,
	}
	id, at := newID(), time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	decide := func(cmd func(domainaccount.State) any) handler {
		return func(ctx context.Context, s *command.Session) (command.Result, error) {
			state, _, err := command.Load(ctx, s, people, id)
			if err != nil {
				return command.Result{}, err
			}
			evs, err := domainaccount.Decide(state, cmd(state))
			if err != nil {
				return command.Result{}, err
			}
			s.Emit(people.Stream(id), evs...)
			return command.Result{}, nil
		}
	}
	load := func() domainaccount.State {
		var st domainaccount.State
		mustRun(t, p, "Load", func(ctx context.Context, s *command.Session) (command.Result, error) {
			var err error
			st, _, err = command.Load(ctx, s, people, id)
			return command.Result{}, err
		})
		return st
	}
	personal := []string{"Ada Lovelace", "ada@example.com", "+44 20 7946 0000"}
	assertSealed := func(st domainaccount.State) {
		t.Helper()
		dump := fmt.Sprintf("%+v", st)
		for _, p := range personal {
			if strings.Contains(dump, p) {
				t.Fatalf("a loaded state holds %q in the clear: %s", p, dump)
			}
		}
	}

	mustRun(t, p, "Open", decide(func(domainaccount.State) any {
		return domainaccount.Open{ID: id, Kind: domainaccount.Civilian, Name: personal[0], Email: personal[1],
			Phone: personal[2], CredentialsAssigned: true, At: at}
	}))
	st := load()
	assertSealed(st)
	if name, err := cipher.Open(ctx, st.Name); err != nil || name != personal[0] {
		t.Fatalf("the cached name opens to %q, %v; want %q", name, err, personal[0])
	}
	mustRun(t, p, "UpdateProfile", decide(func(domainaccount.State) any {
		return domainaccount.UpdateProfile{Name: "Ada King", Phone: personal[2], At: at}
	}))
	if st = load(); strings.Contains(fmt.Sprintf("%+v", st), "Ada King") {
		t.Fatalf("the updated name is in the clear: %+v", st)
	}

	mustRun(t, p, "Erase", decide(func(domainaccount.State) any { return domainaccount.Erase{At: at} }))
	if err := cipher.Erase(ctx, id); err != nil {
		t.Fatal(err)
	}
	st = load()
	assertSealed(st)
	if st.ErasedAt.IsZero() {
		t.Fatal("the cached state does not know the account was erased")
	}
	for _, token := range []string{st.Name, st.Email, st.Phone} {
		if plain, err := cipher.Open(ctx, token); !errors.Is(err, pii.ErrErased) {
			t.Fatalf("after the erasure a cached field opens to %q, %v; want ErrErased", plain, err)
		}
	}
}
