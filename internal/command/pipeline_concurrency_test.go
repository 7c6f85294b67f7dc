package command_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/bluepoint/bluepoint/internal/command"
)

// Twenty writers on one stream is far more contention than the default retry
// budget is tuned for; these tests raise it so that every command ends in a
// decision, which is what they check.
var contended = command.Config{MaxRetries: 100}

func TestConcurrentWithdrawalsLoseNoUpdate(t *testing.T) {
	forEachStore(t, contended, func(t *testing.T, e *env) {
		const workers, amount, start = 20, 60, 1000
		id := newID()
		e.open(t, id, start)
		errs := make([]error, workers)
		attempts := make([]int, workers)
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() {
				out, err := e.p.Run(ctxT(t), &command.Request{Name: "Withdraw", Handle: withdraw(id, amount)})
				errs[i] = err
				if out != nil {
					attempts[i] = out.Attempts
				}
			})
		}
		wg.Wait()
		ok, total := 0, 0
		for i, err := range errs {
			total += attempts[i]
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, errInsufficientFunds):
				t.Errorf("worker %d: %v, want success or insufficient funds", i, err)
			}
		}
		// Serialised, exactly start/amount withdrawals fit.
		if want := start / amount; ok != want {
			t.Errorf("%d withdrawals succeeded, want %d", ok, want)
		}
		if got, want := e.balance(t, id), int64(start-ok*amount); got != want {
			t.Errorf("balance = %d, want %d = %d - %d x %d: an update was lost", got, want, start, ok, amount)
		}
		t.Logf("%d workers, %d handler runs", workers, total)
	})
}

func TestConcurrentTransfersConservePoints(t *testing.T) {
	forEachStore(t, contended, func(t *testing.T, e *env) {
		const workers = 16
		a, b := newID(), newID()
		e.open(t, a, 100)
		e.open(t, b, 100)
		var wg sync.WaitGroup
		for i := range workers {
			from, to := a, b
			if i%2 == 1 {
				from, to = b, a
			}
			wg.Go(func() {
				_, err := e.p.Run(ctxT(t), &command.Request{Name: "Transfer", Handle: transfer(from, to, int64(10+i))})
				if err != nil && !errors.Is(err, errInsufficientFunds) {
					t.Errorf("transfer %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		ga, gb := e.balance(t, a), e.balance(t, b)
		if ga+gb != 200 || ga < 0 || gb < 0 {
			t.Fatalf("balances %d + %d: points were created, destroyed or overdrawn", ga, gb)
		}
	})
}

func TestConcurrentDuplicatesApplyOnce(t *testing.T) {
	forEachStore(t, contended, func(t *testing.T, e *env) {
		// Withdrawing everything twice would be refused, so a twin that ran
		// its decision after the winner committed must still get the
		// winner's answer, not "insufficient funds".
		const workers = 10
		id, key := newID(), newID()
		e.open(t, id, 100)
		outs := make([]*command.Outcome, workers)
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() {
				out, err := e.p.Run(ctxT(t), &command.Request{
					Name: "Withdraw", IdempotencyKey: key, Fingerprint: "all",
					Handle: withdraw(id, 100),
				})
				if err != nil {
					t.Errorf("twin %d: %v", i, err)
				}
				outs[i] = out
			})
		}
		wg.Wait()
		applied := 0
		for i, out := range outs {
			if out == nil {
				continue
			}
			if !out.Replayed {
				applied++
			}
			if string(out.Result.Body) != `{"balance":0}` {
				t.Errorf("twin %d got %s, want the one stored answer", i, out.Result.Body)
			}
		}
		if applied != 1 {
			t.Errorf("%d twins applied, want exactly 1", applied)
		}
		if v, bal := e.version(t, id), e.balance(t, id); v != 2 || bal != 0 {
			t.Errorf("version %d, balance %d, want 2 and 0: applied more than once", v, bal)
		}
	})
}
