package domaintest_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/domaintest"
)

// counter is a toy aggregate: events are ints added to the state; the
// command "add n" emits n, "bad" is refused, "leaky" is refused but also
// emits, and "broken" fails with a plain error.
var counter = domaintest.Spec[int]{
	Initial: func() int { return 0 },
	Evolve:  func(s int, e any) int { return s + e.(int) },
	Decide: func(s int, cmd any) ([]any, error) {
		switch c := cmd.(type) {
		case int:
			return []any{c}, nil
		case string:
			switch c {
			case "bad":
				return nil, domain.Invalid("n", "must be a number")
			case "leaky":
				return []any{1}, domain.Invalid("n", "must be a number")
			case "broken":
				return nil, errors.New("disk full")
			}
		}
		return nil, fmt.Errorf("unknown %T", cmd)
	},
}

// recorder is a testing.TB that records failures instead of failing the real
// test; Fatal ends the goroutine like the real one.
type recorder struct {
	testing.TB
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(f string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(f, args...))
}
func (r *recorder) Fatalf(f string, args ...any) {
	r.Errorf(f, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// run runs fn against a recorder in its own goroutine and returns the
// failures it reported.
func run(t *testing.T, fn func(tb testing.TB)) []string {
	r := &recorder{TB: t}
	var wg sync.WaitGroup
	wg.Go(func() { fn(r) })
	wg.Wait()
	return r.msgs
}

func TestScenarioPasses(t *testing.T) {
	if got := counter.Given(t, 1, 2).When(3).Then(3); got != 6 {
		t.Errorf("state after Then = %d, want 6", got)
	}
	if de := counter.Given(t).When("bad").ThenError(domain.CodeInvalid, "n"); de.Message != "must be a number" {
		t.Errorf("ThenError returned %v", de)
	}
}

func TestScenarioFailures(t *testing.T) {
	tests := map[string]struct {
		fn   func(tb testing.TB)
		want string
	}{
		"wrong event":        {func(tb testing.TB) { counter.Given(tb).When(3).Then(4) }, "event 0"},
		"wrong count":        {func(tb testing.TB) { counter.Given(tb).When(3).Then() }, "got 1 event(s), want 0"},
		"rejected":           {func(tb testing.TB) { counter.Given(tb).When("bad").Then(1) }, "command rejected"},
		"accepted":           {func(tb testing.TB) { counter.Given(tb).When(1).ThenError(domain.CodeInvalid, "n") }, "command accepted"},
		"wrong code":         {func(tb testing.TB) { counter.Given(tb).When("bad").ThenError(domain.CodeConflict, "n") }, `want code "conflict"`},
		"wrong field":        {func(tb testing.TB) { counter.Given(tb).When("bad").ThenError(domain.CodeInvalid, "m") }, `on field "m"`},
		"events on refusal":  {func(tb testing.TB) { counter.Given(tb).When("leaky").ThenError(domain.CodeInvalid, "n") }, "rejected command produced"},
		"not a domain error": {func(tb testing.TB) { counter.Given(tb).When("broken").ThenError(domain.CodeInvalid, "n") }, "not a *domain.Error"},
		"then without when":  {func(tb testing.TB) { counter.Given(tb).Then() }, "Then without When"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			msgs := run(t, tt.fn)
			if len(msgs) == 0 || !strings.Contains(strings.Join(msgs, "\n"), tt.want) {
				t.Errorf("failures = %q, want one containing %q", msgs, tt.want)
			}
		})
	}
}
