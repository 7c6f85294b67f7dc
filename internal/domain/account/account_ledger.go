package account

import (
	"math"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
)

// entry checks what Credit and Debit share: the input first (a malformed
// entry is invalid whatever the account's state), then whether the account
// may transact at all.
func entry(state State, points int64, reason, txID string, when time.Time) (string, error) {
	if points <= 0 {
		return "", domain.Invalid("points", "must be a positive number of points, not %d", points)
	}
	reason, err := text("reason", reason, 1, maxReason)
	if err != nil {
		return "", err
	}
	if err := id("tx_id", txID); err != nil {
		return "", err
	}
	if err := at(when); err != nil {
		return "", err
	}
	if state.Kind == Staff {
		return "", domain.Forbidden("", "staff accounts do not hold points")
	}
	switch state.Status {
	case Closed:
		return "", domain.AccountClosed("the account is closed; it can neither earn nor spend points")
	case Pending:
		return "", domain.AccountPending("the account waits for verification by staff; it cannot transact yet")
	}
	return reason, nil
}

func credit(state State, c Credit) ([]any, error) {
	reason, err := entry(state, c.Points, c.Reason, c.TxID, c.At)
	if err != nil {
		return nil, err
	}
	if c.Points > math.MaxInt64-state.Balance {
		return nil, domain.Invalid("points", "crediting %d points to a balance of %d would overflow", c.Points, state.Balance)
	}
	return []any{PointsCredited{
		AccountID:  state.ID,
		Points:     c.Points,
		Reason:     reason,
		TxID:       c.TxID,
		Balance:    state.Balance + c.Points,
		CreditedAt: c.At,
	}}, nil
}

func debit(state State, c Debit) ([]any, error) {
	reason, err := entry(state, c.Points, c.Reason, c.TxID, c.At)
	if err != nil {
		return nil, err
	}
	if c.Points > state.Balance {
		return nil, domain.InsufficientFunds("points",
			"the balance is %d points, %d short of the %d asked for", state.Balance, c.Points-state.Balance, c.Points)
	}
	return []any{PointsDebited{
		AccountID: state.ID,
		Points:    c.Points,
		Reason:    reason,
		TxID:      c.TxID,
		Balance:   state.Balance - c.Points,
		DebitedAt: c.At,
	}}, nil
}
