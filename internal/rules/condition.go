package rules

import (
	"fmt"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
)

// MaxConditionLength bounds the source of a condition, in code points, so a rule edit cannot
// make parsing and checking arbitrarily slow; real conditions are a line or two.
const MaxConditionLength = 2048

// Names of the two variables a condition can read.
const (
	// VarTx is the transaction being priced: map(string, dyn) with kind, points (int),
	// at (timestamp), from, to and, for interactions, civilian_id and officer_id.
	VarTx = "tx"
	// VarCounters holds counts of earlier transactions: map(string, int) with, for
	// example, pair_today, civilian_today, officer_today and donor_today.
	VarCounters = "counters"
)

// conditionEnv is the one CEL environment every condition is checked and planned in. It is
// immutable once built and safe for concurrent use, so it is built once per process.
var conditionEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable(VarTx, cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable(VarCounters, cel.MapType(cel.StringType, cel.IntType)),
		cel.ParserExpressionSizeLimit(MaxConditionLength),
	)
})

// checkCondition parses and type-checks a condition and requires a bool result. A bad
// condition comes back as a *ValidationError on the condition field, carrying CEL's own
// messages so staff can see where the expression is wrong.
func checkCondition(expr string) (*cel.Ast, error) {
	env, err := conditionEnv()
	if err != nil {
		return nil, fmt.Errorf("rules: build condition environment: %w", err)
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, &ValidationError{Field: "condition", Reason: issuesReason(iss)}
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, &ValidationError{
			Field:  "condition",
			Reason: fmt.Sprintf("must be a bool expression, is %s", cel.FormatCELType(ast.OutputType())),
		}
	}
	return ast, nil
}

// issuesReason renders CEL issues on one line ("line:column: message; ..."), which reads
// better in an API error than CEL's multi-line display with a caret.
func issuesReason(iss *cel.Issues) string {
	errs := iss.Errors()
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		parts = append(parts, fmt.Sprintf("%d:%d: %s", e.Location.Line(), e.Location.Column()+1, e.Message))
	}
	if len(parts) == 0 {
		return iss.Err().Error()
	}
	return strings.Join(parts, "; ")
}
