package sinkconfig

import (
	"fmt"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
)

// VarEvent is the one variable automation conditions and {{ }} expressions read: the
// triggering event as map(string, dyn) with id, type, stream, time, data (a map of the
// event's payload) and trace_id.
const VarEvent = "event"

// MaxExpressionLength bounds one expression's source, in code points, so a file cannot
// make checking arbitrarily slow; real expressions are a line or two.
const MaxExpressionLength = 2048

// celEnv is built once: a CEL environment is immutable and safe for concurrent use.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable(VarEvent, cel.MapType(cel.StringType, cel.DynType)),
		cel.ParserExpressionSizeLimit(MaxExpressionLength),
	)
})

// CELEnv returns the environment conditions and {{ }} expressions were checked in, so the
// automation runtime compiles them exactly as the loader did.
func CELEnv() (*cel.Env, error) {
	return celEnv()
}

// compile parses and type-checks expr; when wantBool, it must also evaluate to bool. The
// error is a one-line message fit for a Problem.
func compile(expr string, wantBool bool) error {
	env, err := celEnv()
	if err != nil {
		return fmt.Errorf("cannot build the CEL environment: %v", err)
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return fmt.Errorf("invalid CEL: %s", issuesText(iss))
	}
	if wantBool && !ast.OutputType().IsExactType(cel.BoolType) {
		return fmt.Errorf("must be a bool expression, is %s (compare the value, e.g. event.data.flag == true)",
			cel.FormatCELType(ast.OutputType()))
	}
	return nil
}

// issuesText renders CEL issues on one line as "line:column: message; ...", positions
// relative to the expression, which reads better after file:line than CEL's caret display.
func issuesText(iss *cel.Issues) string {
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

// template splits a command argument string into its {{ }} expression, if it is one. A
// string that has {{ or }} but is not exactly one expression is refused: text around an
// expression is written as CEL string concatenation inside it instead.
func template(s string) (expr string, isExpr bool, err error) {
	if !strings.Contains(s, "{{") && !strings.Contains(s, "}}") {
		return "", false, nil
	}
	t := strings.TrimSpace(s)
	inner, ok := strings.CutPrefix(t, "{{")
	if ok {
		inner, ok = strings.CutSuffix(inner, "}}")
	}
	if !ok || strings.Contains(inner, "{{") || strings.Contains(inner, "}}") {
		return "", false, fmt.Errorf("%q: a {{ }} expression must be the whole value; "+
			`join text inside it, e.g. '{{ "bonus for " + event.data.to }}'`, s)
	}
	inner = strings.TrimSpace(inner)
	if inner == "" {
		return "", false, fmt.Errorf("%q: empty {{ }} expression", s)
	}
	return inner, true, nil
}
