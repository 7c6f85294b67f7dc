package graphql

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// argumentAliases are domain fields that a GraphQL field takes under
// another name: a page's cursor is Relay's after, a page's size its first.
var argumentAliases = map[string]string{"cursor": "after", "limit": "first"}

// argumentPath names a domain error's field as the client wrote it in the
// operation, for extensions.field. The domain names fields as the REST API
// does, in snake_case; here they become the GraphQL argument of the field
// being resolved (def), or the field of one of its input-object arguments
// (OpenAccountInput's email is input.email), in camelCase. A field that no
// argument holds (a rule's pricing, checked when a command runs) keeps its
// own name, camel-cased.
func argumentPath(schema *ast.Schema, def *ast.FieldDefinition, field string) string {
	segs := strings.Split(field, ".")
	for i, s := range segs {
		segs[i] = lowerCamel(s)
	}
	if def == nil {
		return strings.Join(segs, ".")
	}
	names := []string{segs[0]}
	if alias, ok := argumentAliases[segs[0]]; ok {
		names = append(names, alias)
	}
	for _, name := range names {
		if def.Arguments.ForName(name) != nil {
			segs[0] = name
			return strings.Join(segs, ".")
		}
	}
	for _, arg := range def.Arguments {
		t := schema.Types[arg.Type.Name()]
		if t != nil && t.Kind == ast.InputObject && t.Fields.ForName(segs[0]) != nil {
			return arg.Name + "." + strings.Join(segs, ".")
		}
	}
	return strings.Join(segs, ".")
}

// lowerCamel turns snake_case into lowerCamelCase, as the schema names
// arguments and input fields.
func lowerCamel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if p := parts[i]; p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}
