package command_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/codec"
	"github.com/bluepoint/bluepoint/internal/command"
)

// A tiny bank: the test aggregate. Its decide functions are pure and refuse
// to let a balance go negative, which is the invariant the concurrency tests
// try to break.

type deposited struct {
	Amount int64 `json:"amount"`
}

type withdrawn struct {
	Amount int64 `json:"amount"`
}

type account struct {
	Balance int64
}

var accounts = command.Aggregate[account]{
	Category: "account",
	Evolve: func(a account, e any) account {
		switch e := e.(type) {
		case deposited:
			a.Balance += e.Amount
		case withdrawn:
			a.Balance -= e.Amount
		}
		return a
	},
}

var errInsufficientFunds = errors.New("insufficient funds")

func newBankCodec() *codec.Registry {
	r := codec.NewRegistry()
	codec.Register[deposited](r, "Deposited", 1)
	codec.Register[withdrawn](r, "Withdrawn", 1)
	return r
}

// decideWithdraw is the pure decision: state + command -> events or an error.
func decideWithdraw(a account, amount int64) ([]any, error) {
	if amount > a.Balance {
		return nil, fmt.Errorf("withdraw %d from a balance of %d: %w", amount, a.Balance, errInsufficientFunds)
	}
	return []any{withdrawn{Amount: amount}}, nil
}

type handler = func(ctx context.Context, s *command.Session) (command.Result, error)

func balanceResult(balance int64) command.Result {
	body, _ := json.Marshal(map[string]int64{"balance": balance})
	return command.Result{Status: 200, Body: body}
}

func deposit(id string, amount int64) handler {
	return func(ctx context.Context, s *command.Session) (command.Result, error) {
		a, _, err := command.Load(ctx, s, accounts, id)
		if err != nil {
			return command.Result{}, err
		}
		s.Emit(accounts.Stream(id), deposited{Amount: amount})
		return balanceResult(a.Balance + amount), nil
	}
}

func withdraw(id string, amount int64) handler {
	return func(ctx context.Context, s *command.Session) (command.Result, error) {
		a, _, err := command.Load(ctx, s, accounts, id)
		if err != nil {
			return command.Result{}, err
		}
		events, err := decideWithdraw(a, amount)
		if err != nil {
			return command.Result{}, err
		}
		s.Emit(accounts.Stream(id), events...)
		return balanceResult(a.Balance - amount), nil
	}
}

// transfer touches two streams; both must change together or not at all.
func transfer(from, to string, amount int64) handler {
	return func(ctx context.Context, s *command.Session) (command.Result, error) {
		src, _, err := command.Load(ctx, s, accounts, from)
		if err != nil {
			return command.Result{}, err
		}
		if _, _, err := command.Load(ctx, s, accounts, to); err != nil {
			return command.Result{}, err
		}
		events, err := decideWithdraw(src, amount)
		if err != nil {
			return command.Result{}, err
		}
		s.Emit(accounts.Stream(from), events...)
		s.Emit(accounts.Stream(to), deposited{Amount: amount})
		return command.Result{Status: 200, Body: json.RawMessage(`{}`)}, nil
	}
}
