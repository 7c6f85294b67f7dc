package rules

import (
	"fmt"
	"slices"
	"strings"
)

// ValidationError says which field of a rule is wrong and why, so the API can answer a
// staff edit with a message a person can act on.
type ValidationError struct {
	// Field names the offending field: "kind", "version", "points", "points.<party>" or
	// "condition".
	Field string
	// Reason says what is wrong with it; for a condition it carries CEL's message.
	Reason string
}

// Error implements error.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid rule: %s: %s", e.Field, e.Reason)
}

// Validate checks a rule before it is stored or used: a known kind, a version of at least 1,
// points for exactly the kind's parties, each within 0..MaxPoints, and a condition that is
// empty or compiles to a bool. It returns the first problem found as a *ValidationError, so
// a rejected edit names one field to fix.
func Validate(r Rule) error {
	if err := validateShape(r); err != nil {
		return err
	}
	if r.Condition == "" {
		return nil
	}
	_, err := checkCondition(r.Condition)
	return err
}

// validateShape checks everything but the condition; it is cheap, so the Engine runs it on
// every call and compiles the condition only when its cache misses.
func validateShape(r Rule) error {
	want, ok := parties[r.Kind]
	if !ok {
		return &ValidationError{
			Field:  "kind",
			Reason: fmt.Sprintf("unknown kind %q; kinds are %s", r.Kind, strings.Join(Kinds(), ", ")),
		}
	}
	if r.Version < 1 {
		return &ValidationError{Field: "version", Reason: fmt.Sprintf("must be at least 1, is %d", r.Version)}
	}
	for _, p := range want {
		n, ok := r.Points[p]
		if !ok {
			return &ValidationError{
				Field:  "points." + p,
				Reason: fmt.Sprintf("missing; the %s rule awards %s", r.Kind, strings.Join(want, " and ")),
			}
		}
		if n < 0 || n > MaxPoints {
			return &ValidationError{
				Field:  "points." + p,
				Reason: fmt.Sprintf("must be between 0 and %d, is %d", MaxPoints, n),
			}
		}
	}
	if len(r.Points) != len(want) {
		var extra []string
		for p := range r.Points {
			if !slices.Contains(want, p) {
				extra = append(extra, p)
			}
		}
		slices.Sort(extra)
		return &ValidationError{
			Field:  "points." + extra[0],
			Reason: fmt.Sprintf("not a party of the %s rule; its parties are %s", r.Kind, strings.Join(want, ", ")),
		}
	}
	return nil
}
