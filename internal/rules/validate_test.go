package rules

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDefaultsValidate(t *testing.T) {
	got := Defaults()
	var kinds []string
	for _, r := range got {
		if err := Validate(r); err != nil {
			t.Errorf("default %s: %v", r.Kind, err)
		}
		if r.Version != 1 {
			t.Errorf("default %s: version %d, want 1", r.Kind, r.Version)
		}
		kinds = append(kinds, r.Kind)
	}
	slices.Sort(kinds)
	if !slices.Equal(kinds, Kinds()) {
		t.Errorf("defaults cover %v, want every kind %v", kinds, Kinds())
	}
	// Defaults hands out fresh values: editing one must not change the next.
	got[0].Points[PartyCivilian] = 999
	if Defaults()[0].Points[PartyCivilian] == 999 {
		t.Error("Defaults returned a shared map")
	}
}

func TestParties(t *testing.T) {
	p, ok := Parties(KindInteraction)
	if !ok || !slices.Equal(p, []string{PartyCivilian, PartyOfficer}) {
		t.Errorf("Parties(interaction) = %v, %v", p, ok)
	}
	if _, ok := Parties("lottery"); ok {
		t.Error("Parties(lottery) reported a known kind")
	}
}

func TestRuleJSON(t *testing.T) {
	b, err := json.Marshal(Defaults()[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"interaction","version":1,"points":{"civilian":10,"officer":5},"condition":"counters.pair_today \u003c 3"}`
	if string(b) != want {
		t.Errorf("json = %s\nwant   %s", b, want)
	}
}

func TestValidateFailures(t *testing.T) {
	interaction := func(edit func(*Rule)) Rule {
		r := Rule{Kind: KindInteraction, Version: 2, Points: map[string]int64{PartyCivilian: 10, PartyOfficer: 5}}
		edit(&r)
		return r
	}
	tests := []struct {
		name      string
		rule      Rule
		field     string
		reasonHas string
	}{
		{"unknown kind", interaction(func(r *Rule) { r.Kind = "lottery" }), "kind", `unknown kind "lottery"`},
		{"empty kind", interaction(func(r *Rule) { r.Kind = "" }), "kind", "unknown kind"},
		{"version zero", interaction(func(r *Rule) { r.Version = 0 }), "version", "at least 1"},
		{"missing party", interaction(func(r *Rule) { delete(r.Points, PartyOfficer) }), "points.officer", "missing"},
		{"no points", interaction(func(r *Rule) { r.Points = nil }), "points.civilian", "missing"},
		{"extra party", interaction(func(r *Rule) { r.Points[PartyDonor] = 1 }), "points.donor", "not a party"},
		{"negative points", interaction(func(r *Rule) { r.Points[PartyCivilian] = -1 }), "points.civilian", "between 0 and 10000"},
		{"too many points", interaction(func(r *Rule) { r.Points[PartyOfficer] = MaxPoints + 1 }), "points.officer", "between 0 and 10000"},
		{"condition not bool", interaction(func(r *Rule) { r.Condition = "counters.pair_today + 1" }), "condition", "must be a bool expression, is int"},
		{"condition dyn", interaction(func(r *Rule) { r.Condition = "tx.flag" }), "condition", "is dyn"},
		{"syntax error", interaction(func(r *Rule) { r.Condition = "counters.pair_today <" }), "condition", "Syntax error"},
		{"undeclared variable", interaction(func(r *Rule) { r.Condition = "user.age > 3" }), "condition", "undeclared reference to 'user'"},
		{"wrong operand type", interaction(func(r *Rule) { r.Condition = `counters.pair_today < "3"` }), "condition", "no matching overload"},
		{"condition too long", interaction(func(r *Rule) { r.Condition = "true" + strings.Repeat(" && true", 300) }), "condition", "size exceeds limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.rule)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want *ValidationError", err)
			}
			if ve.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", ve.Field, tt.field, err)
			}
			if !strings.Contains(ve.Reason, tt.reasonHas) {
				t.Errorf("reason = %q, want it to contain %q", ve.Reason, tt.reasonHas)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
}

func TestValidateAcceptsEdits(t *testing.T) {
	for _, r := range []Rule{
		{Kind: KindInteraction, Version: 7, Points: map[string]int64{PartyCivilian: 0, PartyOfficer: MaxPoints}},
		{Kind: KindDonation, Version: 2, Points: map[string]int64{PartyDonor: 3},
			Condition: `tx.points >= 10 && counters.donor_today < 5 && tx.at > timestamp("2024-01-01T00:00:00Z")`},
		{Kind: KindGiveaway, Version: 3, Points: map[string]int64{PartyGiver: 2}, Condition: "tx.from != tx.to"},
	} {
		if err := Validate(r); err != nil {
			t.Errorf("Validate(%+v) = %v", r, err)
		}
	}
}
