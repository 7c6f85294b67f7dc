package rule_test

import (
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/rule"
)

func TestVersionsGoUp(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	def := rule.Rule{Kind: "donation", Version: 1, Points: map[string]int64{"donor": 1}}
	pts := map[string]int64{"donor": 3}
	evs, err := rule.Decide(def, rule.Change{Kind: "donation", Points: pts, Condition: "tx.points > 5", By: "staff-1", At: at})
	if err != nil || len(evs) != 1 {
		t.Fatalf("decide: %v", err)
	}
	pts["donor"] = 99 // the event must not share the caller's map
	s := rule.Evolve(rule.State{}, evs[0])
	if s.Current.Version != 2 || s.Current.Points["donor"] != 3 || s.Current.Condition != "tx.points > 5" {
		t.Fatalf("state %+v", s)
	}
	evs, _ = rule.Decide(s.Current, rule.Change{Kind: "donation", Points: map[string]int64{"donor": 0}, By: "staff-1", At: at})
	if s = rule.Evolve(s, evs[0]); s.Current.Version != 3 {
		t.Fatalf("third version: %+v", s.Current)
	}
	for _, c := range []struct {
		change rule.Change
		field  string
	}{
		{rule.Change{Kind: "giveaway", By: "s", At: at}, "kind"},
		{rule.Change{Kind: "donation", At: at}, "by"},
		{rule.Change{Kind: "donation", By: "s"}, "at"},
	} {
		_, err := rule.Decide(s.Current, c.change)
		if de := domain.As(err); de == nil || de.Field != c.field {
			t.Errorf("%+v: want an error on %q, got %v", c.change, c.field, err)
		}
	}
}

func TestCloneSharesNoMap(t *testing.T) {
	s := rule.State{Current: rule.Rule{Kind: "donation", Version: 2, Points: map[string]int64{"donor": 3}}}
	c := s.Clone()
	c.Current.Points["donor"] = 99
	if s.Current.Points["donor"] != 3 || c.Current.Version != 2 || c.Current.Kind != "donation" {
		t.Fatalf("original %+v, clone %+v", s, c)
	}
	if (rule.State{}).Clone().Current.Points != nil {
		t.Fatal("the clone of a state without points has points")
	}
}
