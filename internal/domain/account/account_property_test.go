package account_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
)

// TestLedgerInvariants runs random sequences of Credit, Debit, Close and
// Verify on random accounts and checks, after every command:
//
//   - a balance never goes negative;
//   - closed and pending accounts never change balance;
//   - the balance equals the accepted credits minus the accepted debits;
//   - a refused command is a *domain.Error, produces no event and so leaves
//     the state as it was.
//
// The seed is fixed so that a failure replays; the counts at the end make
// sure every rule was actually reached, not passed vacuously.
func TestLedgerInvariants(t *testing.T) {
	const sequences = 10_000
	rng := rand.New(rand.NewPCG(20260301, 42))
	seen := map[string]int{}

	for seq := range sequences {
		history := randomHistory(rng)
		state := account.Initial()
		for _, e := range history {
			state = account.Evolve(state, e)
		}
		credits, debits := new(big.Int), new(big.Int)
		for _, e := range history {
			if c, ok := e.(account.PointsCredited); ok {
				credits.Add(credits, big.NewInt(c.Points))
			}
		}
		steps := 1 + rng.IntN(40)
		for step := range steps {
			cmd := randomCommand(rng)
			events, err := account.Decide(state, cmd)
			before := state
			if err != nil {
				de := domain.As(err)
				if de == nil || len(events) != 0 {
					t.Fatalf("seq %d step %d: %T refused with %v (%T) and %d event(s)", seq, step, cmd, err, err, len(events))
				}
				seen[de.Code]++
				continue
			}
			seen[reflect.TypeOf(cmd).Name()]++
			for _, e := range events {
				state = account.Evolve(state, e)
				switch e := e.(type) {
				case account.PointsCredited:
					credits.Add(credits, big.NewInt(e.Points))
					if e.Balance != state.Balance {
						t.Fatalf("seq %d step %d: credit says balance %d, state has %d", seq, step, e.Balance, state.Balance)
					}
				case account.PointsDebited:
					debits.Add(debits, big.NewInt(e.Points))
					if e.Balance != state.Balance {
						t.Fatalf("seq %d step %d: debit says balance %d, state has %d", seq, step, e.Balance, state.Balance)
					}
				}
			}
			if state.Balance < 0 {
				t.Fatalf("seq %d step %d: %T left a negative balance %d", seq, step, cmd, state.Balance)
			}
			if before.Status != account.Active && state.Balance != before.Balance {
				t.Fatalf("seq %d step %d: %T changed the balance of a %s account from %d to %d",
					seq, step, cmd, before.Status, before.Balance, state.Balance)
			}
			if net := new(big.Int).Sub(credits, debits); net.Cmp(big.NewInt(state.Balance)) != 0 {
				t.Fatalf("seq %d step %d: balance %d, but credits minus debits is %s", seq, step, state.Balance, net)
			}
		}
	}

	for _, outcome := range []string{
		"Credit", "Debit", "Close", "Verify",
		domain.CodeInvalid, domain.CodeNotFound, domain.CodeConflict,
		domain.CodeInsufficientFunds, domain.CodeAccountClosed, domain.CodeAccountPending,
	} {
		if seen[outcome] < 100 {
			t.Errorf("outcome %s reached %d times; the generator no longer exercises it", outcome, seen[outcome])
		}
	}
	t.Logf("outcomes over %d sequences: %v", sequences, seen)
}

// randomHistory returns the events of a random account: sometimes none, else
// opened with a random kind, maybe verified, maybe credited, maybe closed.
func randomHistory(rng *rand.Rand) []any {
	if rng.IntN(20) == 0 {
		return nil
	}
	kind := account.Kinds[rng.IntN(len(account.Kinds))]
	history := []any{opened(kind)}
	if kind.NeedsVerification() && rng.IntN(2) == 0 {
		history = append(history, verified)
	}
	if kind.InitialStatus() == account.Active || len(history) == 2 {
		if n := randomPoints(rng); n > 0 {
			history = append(history, credited(n, n))
		}
	}
	if rng.IntN(10) == 0 {
		history = append(history, closed)
	}
	return history
}

// randomCommand returns a Credit, Debit, Close or Verify, mostly valid, some
// with bad input.
func randomCommand(rng *rand.Rand) any {
	at := t1.Add(time.Duration(rng.IntN(1000)) * time.Minute)
	reason := "interaction"
	if rng.IntN(50) == 0 {
		reason = ""
	}
	switch r := rng.IntN(100); {
	case r < 45:
		return account.Credit{Points: randomPoints(rng), Reason: reason, TxID: "tx", At: at}
	case r < 90:
		return account.Debit{Points: randomPoints(rng), Reason: reason, TxID: "tx", At: at}
	case r < 97:
		by := "staff-1"
		if rng.IntN(10) == 0 {
			by = ""
		}
		return account.Verify{By: by, At: at}
	default:
		return account.Close{Reason: "random", At: at}
	}
}

// randomPoints is mostly small amounts, with zero, negative and huge amounts
// mixed in to reach the validation and overflow rules.
func randomPoints(rng *rand.Rand) int64 {
	switch r := rng.IntN(100); {
	case r < 70:
		return 1 + rng.Int64N(100)
	case r < 80:
		return -rng.Int64N(3)
	case r < 95:
		return 100 + rng.Int64N(10_000)
	default:
		return math.MaxInt64 - rng.Int64N(1000)
	}
}
