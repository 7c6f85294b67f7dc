package rules

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/interpreter"
)

// Defaults of Config.
const (
	DefaultCostLimit = 10000
	DefaultTimeout   = 100 * time.Millisecond
)

// maxCachedPrograms bounds the program cache. Live rules are a handful of kinds times a few
// versions; the bound only matters if callers price many ad hoc rules, and then the cache is
// simply emptied and refilled.
const maxCachedPrograms = 1024

// interruptCheckFrequency is how many comprehension iterations run between checks of the
// evaluation context, so a timeout stops a long loop promptly without slowing short ones.
const interruptCheckFrequency = 100

// ErrCostLimit is wrapped by an *EvalError when a condition does more work than the
// engine's cost limit allows; staff wrote a condition too expensive to run per transaction.
var ErrCostLimit = errors.New("cost limit exceeded")

// Config tunes an Engine. The zero value is usable: WithDefaults fills every unset field.
type Config struct {
	// CostLimit caps the CEL runtime cost of one condition evaluation, so a condition
	// written by staff cannot burn CPU on every transaction. Default 10,000.
	CostLimit uint64
	// Timeout caps the wall time of one condition evaluation, on top of the caller's
	// context. Default 100ms.
	Timeout time.Duration
}

// WithDefaults returns c with every unset field set to its default.
func (c Config) WithDefaults() Config {
	if c.CostLimit == 0 {
		c.CostLimit = DefaultCostLimit
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// Input is what a condition sees: the transaction being priced (bound to tx) and counts of
// earlier transactions (bound to counters). The caller computes the counters, because
// counting needs the read side, which this package does not know.
type Input struct {
	// Tx describes the transaction: kind, points (int64), at (time.Time), from, to and, for
	// interactions, civilian_id and officer_id.
	Tx map[string]any
	// Counters holds counts such as pair_today, civilian_today, officer_today, donor_today.
	Counters map[string]int64
}

// Pricing is the outcome of applying a rule to one transaction. The transaction records
// RuleVersion so the price can be explained after the rule changes.
type Pricing struct {
	// Kind is the kind of the rule that priced the transaction.
	Kind string `json:"kind"`
	// RuleVersion is the version of that rule, recorded with the transaction.
	RuleVersion int `json:"rule_version"`
	// Points is what each party earns: the rule's points when Allowed, zero for every
	// party otherwise, so a caller that ignores Allowed still awards nothing.
	Points map[string]int64 `json:"points"`
	// Allowed reports whether the condition held. What a refusal means is the caller's
	// choice: an interaction over its daily cap is rejected, a small donation goes ahead
	// without its bonus.
	Allowed bool `json:"allowed"`
	// Reason says why the rule did not award, "condition <expr> is false"; empty when
	// Allowed.
	Reason string `json:"reason,omitempty"`
}

// EvalError reports that a condition could not be evaluated (a missing key, a wrong type, the
// cost limit or the timeout). It is never a refusal: the rule neither allowed nor refused, and
// the caller should reject the transaction rather than guess.
type EvalError struct {
	Kind      string
	Version   int
	Condition string
	// Err is the cause: ErrCostLimit, a context error, or CEL's evaluation error.
	Err error
}

// Error implements error.
func (e *EvalError) Error() string {
	return fmt.Sprintf("evaluate %s rule v%d condition %q: %v", e.Kind, e.Version, e.Condition, e.Err)
}

// Unwrap returns the cause, so errors.Is(err, ErrCostLimit) and
// errors.Is(err, context.DeadlineExceeded) work.
func (e *EvalError) Unwrap() error { return e.Err }

// Engine prices transactions with rules. Compiling a CEL condition costs far more than
// evaluating it, so the engine keeps compiled programs keyed by kind, version and condition;
// a new rule version compiles once and is then reused. An Engine is safe for concurrent use.
type Engine struct {
	cfg Config

	mu       sync.RWMutex
	programs map[cacheKey]cel.Program
}

// cacheKey identifies a compiled condition. The condition text is part of the key so two
// rules that share a kind and version but differ in text (an unsaved edit being previewed)
// never share a program.
type cacheKey struct {
	kind      string
	version   int
	condition string
}

// NewEngine returns an Engine configured by cfg, with defaults for unset fields.
func NewEngine(cfg Config) *Engine {
	return &Engine{cfg: cfg.WithDefaults(), programs: make(map[cacheKey]cel.Program)}
}

// Price applies rule r to the transaction and counters in in. An invalid rule returns a
// *ValidationError; a condition that cannot be evaluated returns an *EvalError; a condition
// that is false returns Allowed false with a Reason, and no error.
func (e *Engine) Price(ctx context.Context, r Rule, in Input) (Pricing, error) {
	prg, err := e.program(r)
	if err != nil {
		return Pricing{}, err
	}
	p := Pricing{Kind: r.Kind, RuleVersion: r.Version, Points: maps.Clone(r.Points), Allowed: true}
	if prg == nil {
		return p, nil
	}
	ok, err := e.eval(ctx, prg, in)
	if err != nil {
		return Pricing{}, &EvalError{Kind: r.Kind, Version: r.Version, Condition: r.Condition, Err: err}
	}
	if !ok {
		p.Allowed = false
		p.Reason = fmt.Sprintf("condition %s is false", r.Condition)
		for party := range p.Points {
			p.Points[party] = 0
		}
	}
	return p, nil
}

// eval runs a compiled condition under the engine's timeout and returns its bool result.
func (e *Engine) eval(ctx context.Context, prg cel.Program, in Input) (ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	defer func() {
		// CEL recovers its own panics; this is a last line so pricing never panics.
		if r := recover(); r != nil {
			ok, err = false, fmt.Errorf("internal error: %v", r)
		}
	}()
	tx, counters := in.Tx, in.Counters
	if tx == nil {
		tx = map[string]any{}
	}
	if counters == nil {
		counters = map[string]int64{}
	}
	out, _, err := prg.ContextEval(ctx, map[string]any{VarTx: tx, VarCounters: counters})
	if err != nil {
		var cancelled interpreter.EvalCancelledError
		if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
			return false, fmt.Errorf("%w (limit %d)", ErrCostLimit, e.cfg.CostLimit)
		}
		return false, err
	}
	b, isBool := out.Value().(bool)
	if !isBool {
		return false, fmt.Errorf("result is %s, not bool", out.Type().TypeName())
	}
	return b, nil
}

// program validates r and returns its compiled condition, from the cache when possible; nil
// when r has no condition.
func (e *Engine) program(r Rule) (cel.Program, error) {
	if err := validateShape(r); err != nil {
		return nil, err
	}
	if r.Condition == "" {
		return nil, nil
	}
	key := cacheKey{kind: r.Kind, version: r.Version, condition: r.Condition}
	e.mu.RLock()
	prg, ok := e.programs[key]
	e.mu.RUnlock()
	if ok {
		return prg, nil
	}
	ast, err := checkCondition(r.Condition)
	if err != nil {
		return nil, err
	}
	env, err := conditionEnv()
	if err != nil {
		return nil, fmt.Errorf("rules: build condition environment: %w", err)
	}
	prg, err = env.Program(ast,
		cel.CostLimit(e.cfg.CostLimit),
		cel.InterruptCheckFrequency(interruptCheckFrequency),
	)
	if err != nil {
		return nil, fmt.Errorf("rules: plan condition %q: %w", r.Condition, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if existing, ok := e.programs[key]; ok {
		// Another goroutine compiled the same condition first; keep one program per key.
		return existing, nil
	}
	if len(e.programs) >= maxCachedPrograms {
		clear(e.programs)
	}
	e.programs[key] = prg
	return prg, nil
}
