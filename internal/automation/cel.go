package automation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/sinkconfig"
	"github.com/bluepoint/bluepoint/internal/webhook"
)

// compiled is an automation ready to run: its expressions are programs,
// its webhook sender holds the secret.
type compiled struct {
	sinkconfig.Automation
	step      string
	condition cel.Program // nil: always
	args      []arg
	sender    *webhook.Sender
}

// arg is one command argument: a literal, or a program to evaluate.
type arg struct {
	name  string
	value any
	prg   cel.Program
}

// compileExpr compiles a CEL expression in the environment sinkconfig checked
// it in; wantBool requires a bool result, as conditions have.
func compileExpr(expr string, wantBool bool) (cel.Program, error) {
	env, err := sinkconfig.CELEnv()
	if err != nil {
		return nil, fmt.Errorf("the CEL environment: %w", err)
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("invalid CEL %q: %w", expr, iss.Err())
	}
	if wantBool && !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("%q must be a bool expression, is %s", expr, cel.FormatCELType(ast.OutputType()))
	}
	prg, err := env.Program(ast)
	if err != nil {
		return nil, fmt.Errorf("CEL %q: %w", expr, err)
	}
	return prg, nil
}

// compileArgs compiles the {{ }} arguments, in name order so evaluation
// errors are reported the same way every time.
func compileArgs(args map[string]sinkconfig.Arg) ([]arg, error) {
	out := make([]arg, 0, len(args))
	for _, name := range slices.Sorted(maps.Keys(args)) {
		a := args[name]
		if a.Expr == "" {
			out = append(out, arg{name: name, value: a.Value})
			continue
		}
		prg, err := compileExpr(a.Expr, false)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", name, err)
		}
		out = append(out, arg{name: name, prg: prg})
	}
	return out, nil
}

// eventVars is the activation of every expression: the variable `event`
// with id, type, stream (the stream id), time, data (the payload as a map,
// whole numbers as int so `event.data.points >= 50` compares ints), trace_id
// and depth.
func eventVars(e eventstore.Event) (map[string]any, error) {
	data := map[string]any{}
	if len(bytes.TrimSpace(e.Data)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(e.Data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("decode the data of event %s: %w", e.ID, err)
		}
		m, ok := numbers(v).(map[string]any)
		if !ok {
			return nil, fmt.Errorf("the data of event %s is not a JSON object", e.ID)
		}
		data = m
	}
	return map[string]any{sinkconfig.VarEvent: map[string]any{
		"id":       e.ID.String(),
		"type":     e.Type,
		"stream":   e.StreamID,
		"time":     e.RecordedAt,
		"data":     data,
		"trace_id": e.Metadata.TraceID,
		"depth":    int64(e.Metadata.Depth),
	}}, nil
}

// numbers turns the json.Numbers of a decoded value into int64 when whole
// and in range, float64 otherwise.
func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, item := range x {
			x[k] = numbers(item)
		}
	case []any:
		for i, item := range x {
			x[i] = numbers(item)
		}
	}
	return v
}

// holds evaluates the automation's condition; no condition holds always.
func (c *compiled) holds(vars map[string]any) (bool, error) {
	if c.condition == nil {
		return true, nil
	}
	out, _, err := c.condition.Eval(vars)
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", c.Condition, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("condition %q gave %s, not a bool", c.Condition, out.Type().TypeName())
	}
	return bool(b), nil
}

// commandArgs evaluates the arguments of the automation's command.
func (c *compiled) commandArgs(vars map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(c.args))
	for _, a := range c.args {
		if a.prg == nil {
			out[a.name] = a.value
			continue
		}
		v, _, err := a.prg.Eval(vars)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", a.name, err)
		}
		native, err := toNative(v)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", a.name, err)
		}
		out[a.name] = native
	}
	return out, nil
}

// toNative converts a CEL value to the plain Go values commands read:
// string, int64, uint64, float64, bool, nil, time values, []any and
// map[string]any.
func toNative(v ref.Val) (any, error) {
	switch x := v.(type) {
	case types.String, types.Int, types.Uint, types.Double, types.Bool, types.Bytes,
		types.Timestamp, types.Duration:
		return x.Value(), nil
	case types.Null:
		return nil, nil
	case traits.Mapper:
		out := map[string]any{}
		for it := x.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("map key %v is not a string", k)
			}
			item, err := toNative(x.Get(k))
			if err != nil {
				return nil, err
			}
			out[string(ks)] = item
		}
		return out, nil
	case traits.Lister:
		var out []any
		for it := x.Iterator(); it.HasNext() == types.True; {
			item, err := toNative(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, item)
		}
		return out, nil
	}
	if types.IsError(v) {
		return nil, fmt.Errorf("%v", v)
	}
	return nil, fmt.Errorf("a %s cannot be a command argument", strings.ToLower(v.Type().TypeName()))
}
