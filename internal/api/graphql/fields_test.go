package graphql

import "testing"

func TestArgumentPath(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	for _, c := range []struct {
		typ, field, domain, want string
	}{
		{"Mutation", "openAccount", "email", "input.email"},
		{"Mutation", "openAccount", "profile.sponsor_charity_id", "input.profile.sponsorCharityId"},
		{"Mutation", "redeem", "merchant_id", "merchantId"},
		{"Mutation", "donate", "points", "points"},
		{"Mutation", "changeRule", "pricing.points.redeemer", "pricing.points.redeemer"},
		{"Query", "events", "cursor", "after"},
		{"Query", "events", "limit", "first"},
		{"Query", "events", "q", "filter.q"},
		{"Query", "events", "customer_id", "filter.customerId"},
		{"Query", "eventTypes", "limit", "limit"},
		{"", "", "pricing.rule_version", "pricing.ruleVersion"},
	} {
		var got string
		if c.typ == "" {
			got = argumentPath(schema, nil, c.domain)
		} else {
			def := schema.Types[c.typ].Fields.ForName(c.field)
			if def == nil {
				t.Fatalf("%s.%s is not in the schema", c.typ, c.field)
			}
			got = argumentPath(schema, def, c.domain)
		}
		if got != c.want {
			t.Errorf("%s.%s, domain field %q: %q, want %q", c.typ, c.field, c.domain, got, c.want)
		}
	}
}
