// Package rule is the aggregate of a business rule: how many points each
// party of one kind of transaction earns, under which condition. Each kind
// has one stream ("rule-<kind>"); every change appends a new version, so a
// transaction can always say which version priced it and a change never
// rewrites history.
//
// Whether a condition compiles is checked outside the domain (package
// rules, which holds the expression language); this package keeps the
// versions honest.
package rule

import (
	"maps"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
)

// Category is the stream category of rules: the rule of kind "donation"
// lives in "rule-donation".
const Category = "rule"

// Rule is one version of a kind's rule.
type Rule struct {
	Kind      string           `json:"kind"`
	Version   int              `json:"version"`
	Points    map[string]int64 `json:"points"`
	Condition string           `json:"condition"`
}

// State is a kind's rule as its events built it; Current is zero until the
// first change (the caller then uses the shipped default).
type State struct {
	Current Rule
}

// Clone returns a copy of s that shares no map with it, so that a state kept
// for later (the command pipeline caches folded states) is never changed
// through a copy handed to someone else.
func (s State) Clone() State {
	s.Current.Points = maps.Clone(s.Current.Points)
	return s
}

// Change sets a kind's rule. The new version is the current one plus one.
type Change struct {
	Kind      string
	Points    map[string]int64
	Condition string
	By        string
	At        time.Time
}

// RuleChanged records a new version of a kind's rule.
type RuleChanged struct {
	Kind      string           `json:"kind"`
	Version   int              `json:"version"`
	Points    map[string]int64 `json:"points"`
	Condition string           `json:"condition"`
	ChangedBy string           `json:"changed_by"`
	ChangedAt time.Time        `json:"changed_at"`
}

// Decide returns the event of a change. current is the rule in force: the
// state's, or the shipped default when the kind was never changed.
func Decide(current Rule, c Change) ([]any, error) {
	switch {
	case c.Kind == "" || c.Kind != current.Kind:
		return nil, domain.Invalid("kind", "must be the kind of the rule being changed (%q)", current.Kind)
	case c.By == "":
		return nil, domain.Invalid("by", "must name who changes the rule")
	case c.At.IsZero():
		return nil, domain.Invalid("at", "must be set")
	case current.Version < 1:
		return nil, domain.Invalid("version", "the current rule has no version")
	}
	return []any{RuleChanged{Kind: c.Kind, Version: current.Version + 1, Points: maps.Clone(c.Points),
		Condition: c.Condition, ChangedBy: c.By, ChangedAt: c.At}}, nil
}

// Evolve applies one event.
func Evolve(s State, event any) State {
	if e, ok := event.(RuleChanged); ok {
		s.Current = Rule{Kind: e.Kind, Version: e.Version, Points: maps.Clone(e.Points), Condition: e.Condition}
	}
	return s
}

// Registrar is the domain's (see domain.Registrar); the alias keeps this
// package's Register signature readable on its own.
type Registrar = domain.Registrar

// Register declares the rule events to reg.
func Register(reg Registrar) { reg.Add("RuleChanged", 1, RuleChanged{}) }
