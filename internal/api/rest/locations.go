package rest

import (
	"reflect"
	"strings"
)

// fieldLocations maps a field's name, as a domain error gives it (the
// JSON or parameter name), to the location huma's own validation gives
// the same field: "body.points", "query.limit", "path.id". A client then
// reads one style of location whichever layer found the fault.
type fieldLocations map[string]string

// locationsOf reads an operation's input type: its path, query and header
// parameters, and the JSON names of its Body's fields. Embedded structs
// count as their fields, as they do for huma.
func locationsOf(t reflect.Type) fieldLocations {
	locs := fieldLocations{}
	locs.add(t, "")
	return locs
}

// add records t's fields; in is "body" inside the Body and "" at the top,
// where only parameters and the Body itself count.
func (l fieldLocations) add(t reflect.Type, in string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			l.add(f.Type, in)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if in == "body" {
			if name := tagName(f.Tag.Get("json"), f.Name); name != "-" {
				l.set(name, "body."+name)
			}
			continue
		}
		for _, where := range []string{"path", "query", "header"} {
			if name := tagName(f.Tag.Get(where), ""); name != "" {
				l.set(name, where+"."+name)
			}
		}
		if f.Name == "Body" {
			l.add(f.Type, "body")
		}
	}
}

// set keeps the first location of a name: a parameter and a body field
// of the same name would be ambiguous, and the earlier field wins.
func (l fieldLocations) set(name, loc string) {
	if _, ok := l[name]; !ok {
		l[name] = loc
	}
}

// tagName is a struct tag's name part, or def when the tag has none.
func tagName(tag, def string) string {
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		return def
	}
	return name
}

// of is field's location. A dotted field ("pricing.points.interaction")
// is placed by its first part; a name the input does not have is given
// as it is.
func (l fieldLocations) of(field string) string {
	head, rest, dotted := strings.Cut(field, ".")
	loc, ok := l[head]
	switch {
	case !ok:
		return field
	case dotted:
		return loc + "." + rest
	}
	return loc
}
