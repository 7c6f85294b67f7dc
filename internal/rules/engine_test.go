package rules

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

func defaultRule(t *testing.T, kind string) Rule {
	t.Helper()
	for _, r := range Defaults() {
		if r.Kind == kind {
			return r
		}
	}
	t.Fatalf("no default rule for %s", kind)
	return Rule{}
}

// listLiteral returns "[0, 1, ..., n-1]".
func listLiteral(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprint(i)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func TestPricePairCap(t *testing.T) {
	e := NewEngine(Config{})
	r := defaultRule(t, KindInteraction)
	for pairToday := range int64(5) {
		in := Input{
			Tx:       map[string]any{"kind": KindInteraction, "civilian_id": "c1", "officer_id": "o1", "at": time.Now()},
			Counters: map[string]int64{"pair_today": pairToday, "civilian_today": 9, "officer_today": 9},
		}
		p, err := e.Price(context.Background(), r, in)
		if err != nil {
			t.Fatalf("pair_today=%d: %v", pairToday, err)
		}
		if p.Kind != KindInteraction || p.RuleVersion != 1 {
			t.Errorf("pair_today=%d: priced by %s v%d", pairToday, p.Kind, p.RuleVersion)
		}
		wantAllowed := pairToday < 3
		if p.Allowed != wantAllowed {
			t.Errorf("pair_today=%d: allowed %v, want %v", pairToday, p.Allowed, wantAllowed)
		}
		if wantAllowed {
			if p.Points[PartyCivilian] != 10 || p.Points[PartyOfficer] != 5 || p.Reason != "" {
				t.Errorf("pair_today=%d: %+v", pairToday, p)
			}
			continue
		}
		if p.Reason != "condition counters.pair_today < 3 is false" {
			t.Errorf("reason = %q", p.Reason)
		}
		if p.Points[PartyCivilian] != 0 || p.Points[PartyOfficer] != 0 || len(p.Points) != 2 {
			t.Errorf("refused pricing awards %v, want zeros", p.Points)
		}
	}
	// The rule's own map is never handed out or zeroed.
	if r.Points[PartyCivilian] != 10 {
		t.Errorf("rule points changed to %v", r.Points)
	}
}

func TestPriceTxCondition(t *testing.T) {
	e := NewEngine(Config{})
	r := defaultRule(t, KindDonation)
	for _, tt := range []struct {
		points  any
		allowed bool
	}{{int64(9), false}, {int64(10), true}, {250, true}, {int64(0), false}} {
		p, err := e.Price(context.Background(), r, Input{Tx: map[string]any{"kind": KindDonation, "points": tt.points}})
		if err != nil {
			t.Fatalf("points %v: %v", tt.points, err)
		}
		if p.Allowed != tt.allowed {
			t.Errorf("points %v: allowed %v, want %v", tt.points, p.Allowed, tt.allowed)
		}
	}

	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	timed := Rule{Kind: KindGiveaway, Version: 2, Points: map[string]int64{PartyGiver: 1},
		Condition: `tx.at >= timestamp("2025-01-01T00:00:00Z") && tx.from != tx.to`}
	p, err := e.Price(context.Background(), timed, Input{Tx: map[string]any{"at": at, "from": "o1", "to": "o2"}})
	if err != nil || !p.Allowed || p.Points[PartyGiver] != 1 {
		t.Errorf("timestamp condition: %+v, %v", p, err)
	}
}

func TestPriceWithoutCondition(t *testing.T) {
	p, err := NewEngine(Config{}).Price(context.Background(), defaultRule(t, KindRedemption), Input{})
	if err != nil || !p.Allowed || p.Points[PartyRedeemer] != 0 || len(p.Points) != 1 {
		t.Errorf("Price = %+v, %v", p, err)
	}
}

func TestPriceInvalidRule(t *testing.T) {
	r := defaultRule(t, KindInteraction)
	r.Condition = "counters.pair_today"
	_, err := NewEngine(Config{}).Price(context.Background(), r, Input{})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "condition" {
		t.Errorf("Price = %v, want a condition *ValidationError", err)
	}
}

func TestPriceEvalErrors(t *testing.T) {
	e := NewEngine(Config{})
	tests := []struct {
		name string
		rule Rule
		in   Input
		has  string
	}{
		{"missing counter", defaultRule(t, KindInteraction), Input{Counters: map[string]int64{"civilian_today": 1}}, "no such key: pair_today"},
		{"nil inputs", defaultRule(t, KindDonation), Input{}, "no such key: points"},
		{"wrong tx type", defaultRule(t, KindDonation), Input{Tx: map[string]any{"points": "12"}}, "no such overload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Price(context.Background(), tt.rule, tt.in)
			var ee *EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("Price = %v, want *EvalError", err)
			}
			if ee.Kind != tt.rule.Kind || ee.Version != tt.rule.Version || ee.Condition != tt.rule.Condition {
				t.Errorf("error names %s v%d %q", ee.Kind, ee.Version, ee.Condition)
			}
			if !strings.Contains(err.Error(), tt.has) {
				t.Errorf("error %q does not contain %q", err, tt.has)
			}
		})
	}
}

func TestPriceCostLimit(t *testing.T) {
	list := listLiteral(100)
	r := Rule{Kind: KindGiveaway, Version: 1, Points: map[string]int64{PartyGiver: 1},
		Condition: fmt.Sprintf("%s.all(x, %s.all(y, x * y >= 0))", list, list)}
	if err := Validate(r); err != nil {
		t.Fatalf("the expensive condition must be a valid rule, refused only when run: %v", err)
	}
	_, err := NewEngine(Config{}).Price(context.Background(), r, Input{})
	if !errors.Is(err, ErrCostLimit) {
		t.Fatalf("Price = %v, want ErrCostLimit", err)
	}
	var ee *EvalError
	if !errors.As(err, &ee) {
		t.Errorf("cost error %v is not an *EvalError", err)
	}
	// The same condition fits a larger budget, so the limit, not the expression, refused it.
	p, err := NewEngine(Config{CostLimit: 10_000_000}).Price(context.Background(), r, Input{})
	if err != nil || !p.Allowed {
		t.Errorf("with a large budget: %+v, %v", p, err)
	}
}

func TestPriceTimeout(t *testing.T) {
	list := listLiteral(100)
	r := Rule{Kind: KindGiveaway, Version: 1, Points: map[string]int64{PartyGiver: 1},
		Condition: fmt.Sprintf("%s.all(a, %s.all(b, %s.all(c, %s.all(d, a + b + c + d >= 0))))", list, list, list, list)}
	e := NewEngine(Config{CostLimit: math.MaxUint64, Timeout: time.Millisecond})
	start := time.Now()
	_, err := e.Price(context.Background(), r, Input{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Price = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("interrupted after %v", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = e.Price(ctx, defaultRule(t, KindInteraction), Input{Counters: map[string]int64{"pair_today": 0}})
	var ee *EvalError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ee) {
		t.Errorf("cancelled context: %v, want an *EvalError wrapping context.Canceled", err)
	}
}

func TestProgramCache(t *testing.T) {
	e := NewEngine(Config{})
	r := defaultRule(t, KindInteraction)
	first, err := e.program(r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.program(r)
	if err != nil {
		t.Fatal(err)
	}
	if first != again {
		t.Error("same rule compiled twice")
	}
	// Points are not part of the compiled program: an edit of points alone reuses it.
	samePoints := r
	samePoints.Points = map[string]int64{PartyCivilian: 1, PartyOfficer: 1}
	if p, _ := e.program(samePoints); p != first {
		t.Error("a points-only difference recompiled the condition")
	}
	next := r
	next.Version = 2
	second, err := e.program(next)
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Error("a new version reused the old program")
	}
	if n := len(e.programs); n != 2 {
		t.Errorf("cache holds %d programs, want 2", n)
	}
	if p, _ := e.program(Rule{Kind: KindGiveaway, Version: 1, Points: map[string]int64{PartyGiver: 0}}); p != nil {
		t.Error("a rule without a condition has a program")
	}
}

func TestPriceConcurrent(t *testing.T) {
	e := NewEngine(Config{})
	v1 := defaultRule(t, KindInteraction)
	v2 := v1
	v2.Version, v2.Condition = 2, "counters.pair_today < 5"
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Go(func() {
			for i := range 50 {
				r, limit := v1, int64(3)
				if (g+i)%2 == 0 {
					r, limit = v2, 5
				}
				n := int64(i % 7)
				p, err := e.Price(context.Background(), r, Input{Counters: map[string]int64{"pair_today": n}})
				if err != nil {
					errs <- err
					return
				}
				if p.Allowed != (n < limit) || p.RuleVersion != r.Version {
					errs <- fmt.Errorf("v%d pair_today=%d: %+v", r.Version, n, p)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
