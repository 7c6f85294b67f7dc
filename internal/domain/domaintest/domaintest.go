// Package domaintest checks aggregates written as pure functions with
// scenarios that read like the rule they prove:
//
//	spec.Given(t, opened, credited).When(debit).Then(debited)
//	spec.Given(t, opened).When(badDebit).ThenError(domain.CodeInvalid, "points")
//
// Given folds past events into a state, When decides a command on it, and
// Then compares the outcome. It exists so that every aggregate's tests state
// history, command and expectation the same way, and so that "nothing is
// written on a rejected command" is checked every time, not remembered.
package domaintest

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain"
)

// Spec describes one aggregate by its three pure functions.
type Spec[S any] struct {
	// Initial returns the state before the first event.
	Initial func() S
	// Evolve applies one event to the state.
	Evolve func(state S, event any) S
	// Decide turns a command on a state into events or an error.
	Decide func(state S, cmd any) ([]any, error)
}

// Scenario is one Given/When/Then run, created by Spec.Given.
type Scenario[S any] struct {
	t      testing.TB
	spec   Spec[S]
	state  S
	events []any
	err    error
	ran    bool
}

// Given starts a scenario from the state that events build.
func (s Spec[S]) Given(t testing.TB, events ...any) *Scenario[S] {
	t.Helper()
	state := s.Initial()
	for _, e := range events {
		state = s.Evolve(state, e)
	}
	return &Scenario[S]{t: t, spec: s, state: state}
}

// When decides cmd on the given state.
func (sc *Scenario[S]) When(cmd any) *Scenario[S] {
	sc.events, sc.err = sc.spec.Decide(sc.state, cmd)
	sc.ran = true
	return sc
}

// Then asserts that the command was accepted with exactly the events want,
// in order, and returns the state after them for further checks.
func (sc *Scenario[S]) Then(want ...any) S {
	sc.t.Helper()
	sc.mustHaveRun()
	if sc.err != nil {
		sc.t.Fatalf("command rejected: %v; want %d event(s)", sc.err, len(want))
	}
	if len(sc.events) != len(want) {
		sc.t.Fatalf("got %d event(s), want %d:\ngot  %s\nwant %s", len(sc.events), len(want), show(sc.events), show(want))
	}
	for i := range want {
		if !reflect.DeepEqual(sc.events[i], want[i]) {
			sc.t.Errorf("event %d:\ngot  %#v\nwant %#v", i, sc.events[i], want[i])
		}
	}
	state := sc.state
	for _, e := range sc.events {
		state = sc.spec.Evolve(state, e)
	}
	return state
}

// ThenError asserts that the command was rejected with a *domain.Error of the
// given code naming field ("" for none), and that it produced no event. It
// returns the error to check its message.
func (sc *Scenario[S]) ThenError(code, field string) *domain.Error {
	sc.t.Helper()
	sc.mustHaveRun()
	if len(sc.events) != 0 {
		sc.t.Errorf("a rejected command produced %d event(s): %s", len(sc.events), show(sc.events))
	}
	if sc.err == nil {
		sc.t.Fatalf("command accepted with %s; want a %s error on %q", show(sc.events), code, field)
	}
	de := domain.As(sc.err)
	if de == nil {
		sc.t.Fatalf("error %v (%T) is not a *domain.Error", sc.err, sc.err)
	}
	if de.Code != code || de.Field != field {
		sc.t.Errorf("error = %v; want code %q on field %q", de, code, field)
	}
	if de.Message == "" {
		sc.t.Errorf("error %v has no message", de)
	}
	return de
}

func (sc *Scenario[S]) mustHaveRun() {
	sc.t.Helper()
	if !sc.ran {
		sc.t.Fatal("Then without When")
	}
}

func show(events []any) string {
	s := "["
	for i, e := range events {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%T", e)
	}
	return s + "]"
}
