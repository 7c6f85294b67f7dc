package service

import (
	"context"
	"fmt"
	"maps"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/rule"
	"github.com/bluepoint/bluepoint/internal/rules"
)

var ruleStreams = command.Aggregate[rule.State]{Category: rule.Category, Evolve: rule.Evolve}

// defaultRule returns the shipped rule of kind.
func defaultRule(kind string) (rules.Rule, bool) {
	for _, r := range rules.Defaults() {
		if r.Kind == kind {
			return r, true
		}
	}
	return rules.Rule{}, false
}

// Rules returns the rule in force for every kind.
func (s *Service) Rules(ctx context.Context) ([]rules.Rule, error) {
	var out []rules.Rule
	for _, kind := range rules.Kinds() {
		r, err := s.Rule(ctx, kind)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Rule returns the rule in force for kind: its latest version, or the
// shipped default (version 1) if staff never changed it. It takes the rule
// without pinning its version, from the pipeline's cache while no other
// process is known to have written (command.Latest): a transaction priced a
// moment before a rule change records the version that priced it.
func (s *Service) Rule(ctx context.Context, kind string) (rules.Rule, error) {
	def, ok := defaultRule(kind)
	if !ok {
		return rules.Rule{}, domain.NotFound("kind", "no rule of kind %q; kinds are %v", kind, rules.Kinds())
	}
	state, version, err := command.Latest(ctx, s.pipeline, ruleStreams, kind)
	if err != nil {
		return rules.Rule{}, fmt.Errorf("load rule %s: %w", kind, err)
	}
	if version == 0 {
		return def, nil
	}
	c := state.Current
	return rules.Rule{Kind: c.Kind, Version: c.Version, Points: c.Points, Condition: c.Condition}, nil
}

// ChangeRule lets staff set a kind's points and condition; the result is
// the new version. The condition is compiled first, so a rule that cannot
// run is never stored.
func (s *Service) ChangeRule(ctx context.Context, call Call, kind string, points map[string]int64, condition string) (*command.Outcome, error) {
	if !call.Actor.IsStaff() {
		return nil, domain.Forbidden("", "only staff change rules")
	}
	def, ok := defaultRule(kind)
	if !ok {
		return nil, domain.NotFound("kind", "no rule of kind %q; kinds are %v", kind, rules.Kinds())
	}
	if err := rules.Validate(rules.Rule{Kind: kind, Version: 1, Points: points, Condition: condition}); err != nil {
		ve := err.(*rules.ValidationError)
		return nil, domain.Invalid(ve.Field, "%s", ve.Reason)
	}
	return s.pipeline.Run(ctx, call.request("ChangeRule", func(ctx context.Context, sess *command.Session) (command.Result, error) {
		state, _, err := command.Load(ctx, sess, ruleStreams, kind)
		if err != nil {
			return command.Result{}, err
		}
		current := state.Current
		if current.Version == 0 {
			current = rule.Rule{Kind: def.Kind, Version: def.Version, Points: def.Points, Condition: def.Condition}
		}
		evs, err := rule.Decide(current, rule.Change{Kind: kind, Points: maps.Clone(points), Condition: condition,
			By: call.Actor.ID, At: s.now().UTC()})
		if err != nil {
			return command.Result{}, err
		}
		sess.Emit(ruleStreams.Stream(kind), evs...)
		ch := evs[0].(rule.RuleChanged)
		return reply(200, rules.Rule{Kind: ch.Kind, Version: ch.Version, Points: ch.Points, Condition: ch.Condition})
	}))
}

// price applies kind's rule in force.
func (s *Service) price(ctx context.Context, kind string, tx map[string]any, counters map[string]int64) (rules.Pricing, error) {
	r, err := s.Rule(ctx, kind)
	if err != nil {
		return rules.Pricing{}, err
	}
	p, err := s.rules.Price(ctx, r, rules.Input{Tx: tx, Counters: counters})
	if err != nil {
		return rules.Pricing{}, fmt.Errorf("price %s with rule v%d: %w", kind, r.Version, err)
	}
	return p, nil
}
