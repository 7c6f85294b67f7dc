package account_test

import (
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain/account"
)

func TestEraseKeepsTheLedger(t *testing.T) {
	open := opened(account.Civilian)
	open.EmailIndex = "idx"
	state := account.Initial()
	for _, e := range []any{open, credited(40, 40)} {
		state = account.Evolve(state, e)
	}
	evs, err := account.Decide(state, account.Erase{At: t2})
	if err != nil || len(evs) != 1 {
		t.Fatalf("erase: %v %+v", err, evs)
	}
	if _, ok := evs[0].(account.PersonalDataErased); !ok {
		t.Fatalf("erase emitted %T", evs[0])
	}
	state = account.Evolve(state, evs[0])
	if state.ErasedAt.IsZero() || state.Balance != 40 || state.EmailIndex != "idx" {
		t.Fatalf("after erasure: %+v", state)
	}
	// Erasing again records nothing: the caller may retry a failed key deletion.
	if again, err := account.Decide(state, account.Erase{At: t2}); err != nil || len(again) != 0 {
		t.Fatalf("second erase: %v %+v", err, again)
	}
	if _, err := account.Decide(account.Initial(), account.Erase{At: t2}); err == nil {
		t.Fatal("erasing an account that does not exist must fail")
	}
	if _, err := account.Decide(state, account.Erase{}); err == nil {
		t.Fatal("erase without a time must fail")
	}
}
