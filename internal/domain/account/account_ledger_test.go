package account_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
)

func TestCredit(t *testing.T) {
	cmd := account.Credit{Points: 30, Reason: " interaction ", TxID: "tx-1", At: t1}
	state := spec.Given(t, opened(account.Civilian), credited(20, 20)).When(cmd).Then(credited(30, 50))
	if state.Balance != 50 {
		t.Errorf("balance = %d, want 50", state.Balance)
	}

	t.Run("verified account", func(t *testing.T) {
		spec.Given(t, opened(account.Family), verified).When(cmd).Then(credited(30, 30))
	})
}

func TestDebit(t *testing.T) {
	debited := func(points, balance int64) account.PointsDebited {
		return account.PointsDebited{AccountID: "acc-1", Points: points, Reason: "donation", TxID: "tx-2", Balance: balance, DebitedAt: t2}
	}
	given := []any{opened(account.Merchant), credited(50, 50)}
	tests := map[string]struct {
		points int64
		left   int64
	}{
		"part of the balance": {20, 30},
		"the whole balance":   {50, 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cmd := account.Debit{Points: tt.points, Reason: "donation", TxID: "tx-2", At: t2}
			state := spec.Given(t, given...).When(cmd).Then(debited(tt.points, tt.left))
			if state.Balance != tt.left {
				t.Errorf("balance = %d, want %d", state.Balance, tt.left)
			}
		})
	}
}

func TestDebitInsufficientFunds(t *testing.T) {
	cmd := account.Debit{Points: 51, Reason: "donation", TxID: "tx-2", At: t2}
	err := spec.Given(t, opened(account.Civilian), credited(50, 50)).When(cmd).
		ThenError(domain.CodeInsufficientFunds, "points")
	if !strings.Contains(err.Message, "balance is 50 points") {
		t.Errorf("message %q does not name the balance", err.Message)
	}
	spec.Given(t, opened(account.Civilian)).When(account.Debit{Points: 1, Reason: "x", TxID: "tx-2", At: t2}).
		ThenError(domain.CodeInsufficientFunds, "points")
}

// ledgerCases are bad inputs and refusing states shared by Credit and Debit.
var ledgerCases = []struct {
	name   string
	given  []any
	points int64
	reason string
	txID   string
	at     time.Time
	code   string
	field  string
}{
	{"zero points", []any{opened(account.Civilian)}, 0, "r", "tx", t1, domain.CodeInvalid, "points"},
	{"negative points", []any{opened(account.Civilian)}, -5, "r", "tx", t1, domain.CodeInvalid, "points"},
	{"no reason", []any{opened(account.Civilian)}, 5, " ", "tx", t1, domain.CodeInvalid, "reason"},
	{"reason too long", []any{opened(account.Civilian)}, 5, strings.Repeat("r", 101), "tx", t1, domain.CodeInvalid, "reason"},
	{"no transaction", []any{opened(account.Civilian)}, 5, "r", "", t1, domain.CodeInvalid, "tx_id"},
	{"no time", []any{opened(account.Civilian)}, 5, "r", "tx", time.Time{}, domain.CodeInvalid, "at"},
	{"no account", nil, 5, "r", "tx", t1, domain.CodeNotFound, ""},
	{"pending", []any{opened(account.Officer)}, 5, "r", "tx", t1, domain.CodeAccountPending, ""},
	{"closed", []any{opened(account.Civilian), credited(50, 50), closed}, 5, "r", "tx", t1, domain.CodeAccountClosed, ""},
	{"closed while pending", []any{opened(account.Charity), closed}, 5, "r", "tx", t1, domain.CodeAccountClosed, ""},
}

func TestCreditRejects(t *testing.T) {
	for _, tt := range ledgerCases {
		t.Run(tt.name, func(t *testing.T) {
			cmd := account.Credit{Points: tt.points, Reason: tt.reason, TxID: tt.txID, At: tt.at}
			spec.Given(t, tt.given...).When(cmd).ThenError(tt.code, tt.field)
		})
	}
	t.Run("overflow", func(t *testing.T) {
		cmd := account.Credit{Points: 2, Reason: "r", TxID: "tx", At: t1}
		spec.Given(t, opened(account.Civilian), credited(math.MaxInt64-1, math.MaxInt64-1)).When(cmd).
			ThenError(domain.CodeInvalid, "points")
	})
}

func TestDebitRejects(t *testing.T) {
	for _, tt := range ledgerCases {
		t.Run(tt.name, func(t *testing.T) {
			cmd := account.Debit{Points: tt.points, Reason: tt.reason, TxID: tt.txID, At: tt.at}
			spec.Given(t, tt.given...).When(cmd).ThenError(tt.code, tt.field)
		})
	}
}
