package graphql

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/service"
)

// TestNoQueryPerRow lists 50 transactions with both parties of each, and
// 50 log entries naming two accounts each: every account they name is
// read in a batch, not one query per row.
func TestNoQueryPerRow(t *testing.T) {
	e := newEnv(t)
	officer := e.open(t, account.Officer, "Otto Officer", account.Profile{BadgeNumber: "B-1", Department: "Central"})
	e.login("off", officer)
	const n = 50
	for i := range n {
		civ := e.open(t, account.Civilian, fmt.Sprintf("Civilian %d", i), account.Profile{})
		tok, err := e.svc.RequestEncounter(ctxT(t), service.Call{Actor: civ})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RecordInteraction(ctxT(t), service.Call{Actor: officer}, tok.Token); err != nil {
			t.Fatal(err)
		}
	}
	e.sync(t)

	measure := func(query string, vars map[string]any) (batches, keys int64, data json.RawMessage) {
		t.Helper()
		b0, k0 := e.srv.stats.accountBatches.Load(), e.srv.stats.accountKeys.Load()
		res := e.post(t, request{token: e.staff, query: query, vars: vars})
		if len(res.Errors) > 0 {
			t.Fatal(res.Errors)
		}
		return e.srv.stats.accountBatches.Load() - b0, e.srv.stats.accountKeys.Load() - k0, res.Data
	}

	batches, keys, data := measure(`query($id: ID!) { transactions(accountId: $id, first: 50) {
		items { from { id name kind } to { id name kind } } } }`, map[string]any{"id": officer.ID})
	var page struct {
		Transactions struct {
			Items []struct{ From, To struct{ ID, Name string } }
		}
	}
	if err := json.Unmarshal(data, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Transactions.Items) != n || page.Transactions.Items[0].To.Name != "Otto Officer" || page.Transactions.Items[0].From.Name == "" {
		t.Fatalf("page %s", data)
	}
	// 100 parties, 51 distinct accounts: one batch, which the list starts
	// before its rows resolve (a second at most, should the loader's wait
	// run out while the list is still adding keys to it).
	t.Logf("50 transactions: %d account batches for %d accounts", batches, keys)
	if batches > 2 || keys != n+1 {
		t.Fatalf("%d batches for %d keys, want 1 batch of %d", batches, keys, n+1)
	}

	batches, keys, _ = measure(`{ events(first: 50, filter: {types: ["InteractionRecorded"]}) { items { description customer { id } } } }`, nil)
	t.Logf("50 log entries: %d account batches for %d accounts", batches, keys)
	if batches > 2 || keys != n+1 {
		t.Fatalf("%d batches for %d keys, want 1 batch of %d", batches, keys, n+1)
	}
}

// open opens an account through the service, verified when it must be.
func (e *env) open(t *testing.T, kind account.Kind, name string, p account.Profile) service.Actor {
	t.Helper()
	out, err := e.svc.OpenAccount(ctxT(t), service.Call{}, service.OpenAccount{Kind: kind, Name: name,
		Email: fmt.Sprintf("%s-%d@example.org", kind, e.seq()), Password: "s3cret-enough", Profile: p})
	ref := must[service.AccountRef](t, out, err)
	if kind.NeedsVerification() {
		staff, _ := e.tokens.Verify(e.staff)
		out, err := e.svc.VerifyAccount(ctxT(t), service.Call{Actor: staff}, ref.ID)
		must[service.AccountRef](t, out, err)
	}
	return service.Actor{ID: ref.ID, Kind: kind}
}

func must[T any](t *testing.T, out *command.Outcome, err error) T {
	t.Helper()
	v, err := result[T](out, err)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
