package graphql

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// depthLimit refuses operations whose selections nest deeper than max.
// Complexity alone does not stop a deep query over small lists, and depth
// is what a client can understand and fix. Introspection is left out: its
// standard query nests a type reference eight levels deep, and its size is
// bounded by the schema.
type depthLimit struct{ max int }

var (
	_ graphql.HandlerExtension        = depthLimit{}
	_ graphql.OperationContextMutator = depthLimit{}
)

func (depthLimit) ExtensionName() string { return "DepthLimit" }

func (d depthLimit) Validate(graphql.ExecutableSchema) error {
	if d.max < 1 {
		return fmt.Errorf("depth limit %d: must be at least 1", d.max)
	}
	return nil
}

func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if depth := d.depth(oc.Doc, oc.Operation.SelectionSet, 0); depth > d.max {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("the operation nests %d levels deep or more; at most %d are allowed", depth, d.max),
			Extensions: map[string]any{"code": codeDepthLimit},
		}
	}
	return nil
}

// depth returns how deep set nests below level. It stops one level past
// the limit, so fragments that spread each other cannot make it loop.
func (d depthLimit) depth(doc *ast.QueryDocument, set ast.SelectionSet, level int) int {
	if level > d.max {
		return level
	}
	deepest := level
	for _, sel := range set {
		var n int
		switch sel := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(sel.Name, "__") {
				continue
			}
			n = d.depth(doc, sel.SelectionSet, level+1)
		case *ast.InlineFragment:
			n = d.depth(doc, sel.SelectionSet, level)
		case *ast.FragmentSpread:
			if f := doc.Fragments.ForName(sel.Name); f != nil {
				n = d.depth(doc, f.SelectionSet, level)
			}
		}
		deepest = max(deepest, n)
	}
	return deepest
}

// listCost is the size assumed of a list that has no page size.
const listCost = 10

// complexity prices the fields that return many rows at the number of
// rows they may return, so that FixedComplexityLimit sees the cost of a
// page of 500 with nested pages inside it. Other fields cost one plus
// their selections (gqlgen's default).
func complexity() ComplexityRoot {
	var c ComplexityRoot
	page := func(child int, first *int64) int {
		n := int64(50)
		if first != nil {
			n = min(max(*first, 1), 10_000)
		}
		return 1 + child*int(n)
	}
	list := func(child int) int { return 1 + child*listCost }

	c.Query.Transactions = func(child int, _ string, first *int64, _ *string) int { return page(child, first) }
	c.Query.Products = func(child int, _ string, first *int64, _ *string) int { return page(child, first) }
	c.Query.Events = func(child int, _ *EventFilter, first *int64, _ *string) int { return page(child, first) }
	c.Query.EventTypes = func(child int, _, _ *time.Time, limit *int64) int { return page(child, limit) }
	c.Query.OfficersMet = func(child int, _ string, first *int64, _ *string) int { return page(child, first) }
	c.Query.DonationsTo = func(child int, _ string, first *int64, _ *string) int { return page(child, first) }
	c.Query.MerchantSales = func(child int, _ string, first *int64, _ *string) int { return page(child, first) }
	c.Query.Connections = func(child int, _ string, _, first *int64, _ *string) int { return page(child, first) }
	c.Query.CustomerFrequency = func(child int, _ string, _ Interval) int { return list(child) }
	c.Query.TimeSeries = func(child int, _ string, _ Interval, _, _ *time.Time) int { return list(child) }
	c.Query.Trace = func(child int, _ string) int { return list(child) }
	c.Account.Transactions = func(child int, first *int64, _ *string) int { return page(child, first) }
	c.Account.Products = func(child int, first *int64, _ *string) int { return page(child, first) }
	c.Account.OfficersMet = func(child int, first *int64, _ *string) int { return page(child, first) }
	c.Account.DonationsReceived = func(child int, first *int64, _ *string) int { return page(child, first) }
	c.Account.Sales = func(child int, first *int64, _ *string) int { return page(child, first) }
	c.Account.Connections = func(child int, _, first *int64, _ *string) int { return page(child, first) }
	return c
}
