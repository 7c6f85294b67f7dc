package account_test

import (
	"errors"
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
)

func TestStaffAccounts(t *testing.T) {
	evs, err := account.Decide(account.Initial(), account.Open{ID: "st-1", Kind: account.Staff, Name: "Operator", Email: "ops@example.org", At: t1})
	if err != nil || len(evs) != 1 {
		t.Fatalf("open staff: %v", err)
	}
	state := account.Evolve(account.Initial(), evs[0])
	if state.Status != account.Active {
		t.Fatalf("staff opens %s, want active", state.Status)
	}
	_, err = account.Decide(state, account.Credit{Points: 5, Reason: "r", TxID: "tx", At: t2})
	if !errors.Is(err, &domain.Error{Code: domain.CodeForbidden}) {
		t.Fatalf("crediting staff: want forbidden, got %v", err)
	}
	_, err = account.Decide(account.Initial(), account.Open{ID: "st-2", Kind: account.Staff, Name: "Operator", Email: "ops@example.org",
		Profile: account.Profile{Department: "x"}, At: t1})
	if err == nil {
		t.Fatal("a staff account must not take profile fields")
	}
}
