package sinkconfig

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// fields is a checked YAML mapping: each known key that has a non-null value, with the
// node of the value. Keys with a null value (`key:` or `key: ~`) count as absent.
type fields map[string]*yaml.Node

// deref follows aliases (*anchor) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is an empty or explicit null value.
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "nothing"
		}
		return strings.TrimPrefix(n.ShortTag(), "!!")
	}
	return "something else"
}

// mapping checks that n is a mapping whose keys are all in known, each once, and returns
// its values. Unknown and repeated keys are reported at the key.
func (d *decoder) mapping(n *yaml.Node, path string, known ...string) (fields, bool) {
	v := deref(n)
	if v.Kind != yaml.MappingNode {
		d.addf(n, path, "expected a mapping with keys %s, got %s", oneOf(known...), describe(n))
		return nil, false
	}
	out := fields{}
	seen := map[string]bool{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		key := k.Value
		switch {
		case key == "<<":
			d.addf(k, path, "merge keys (<<) are not supported; repeat the keys instead")
			continue
		case !slices.Contains(known, key):
			d.addf(k, join(path, key), "unknown key (known keys: %s)", oneOf(known...))
			continue
		case seen[key]:
			d.addf(k, join(path, key), "key given twice")
			continue
		}
		seen[key] = true
		if !isNull(val) {
			out[key] = val
		}
	}
	return out, true
}

// str returns a string value; other scalars (numbers, booleans) are refused so that a
// value YAML reads differently than intended (no, 0x10, 1e3) is caught, not converted.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	v := deref(n)
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		d.addf(n, path, "expected a string, got %s (quote it if it is meant as text)", describe(n))
		return "", false
	}
	return v.Value, true
}

// strList returns a list of strings, each checked by ok (which reports its own problem).
func (d *decoder) strList(n *yaml.Node, path string, ok func(item *yaml.Node, path, s string) bool) []string {
	v := deref(n)
	if v.Kind != yaml.SequenceNode {
		d.addf(n, path, "expected a list, got %s", describe(n))
		return nil
	}
	out := make([]string, 0, len(v.Content))
	seen := map[string]bool{}
	for i, item := range v.Content {
		p := index(path, i)
		s, good := d.str(item, p)
		if !good || !ok(item, p, s) {
			continue
		}
		if seen[s] {
			d.addf(item, p, "%q is listed twice", s)
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// intIn returns an integer value within [lo, hi].
func (d *decoder) intIn(n *yaml.Node, path string, lo, hi int) (int, bool) {
	v := deref(n)
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
		d.addf(n, path, "expected an integer, got %s", describe(n))
		return 0, false
	}
	var i int
	if err := v.Decode(&i); err != nil || i < lo || i > hi {
		d.addf(n, path, "%s is out of range %d..%d", v.Value, lo, hi)
		return 0, false
	}
	return i, true
}

// durationIn returns a Go-syntax duration within (0, hi]; hi 0 means no upper bound.
func (d *decoder) durationIn(n *yaml.Node, path string, hi time.Duration) (time.Duration, bool) {
	v := deref(n)
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		d.addf(n, path, "expected a duration such as 30s or 1m, got %s", describe(n))
		return 0, false
	}
	dur, err := time.ParseDuration(v.Value)
	switch {
	case err != nil:
		d.addf(n, path, "%q is not a duration (use Go syntax such as 500ms, 30s, 1m, 1h30m)", v.Value)
		return 0, false
	case dur <= 0:
		d.addf(n, path, "%q must be positive", v.Value)
		return 0, false
	case hi > 0 && dur > hi:
		d.addf(n, path, "%q is more than the maximum %s", v.Value, hi)
		return 0, false
	}
	return dur, true
}

// byteSuffixes are the units a byte size accepts; binary, since that is what they mean.
var byteSuffixes = []struct {
	suffix string
	shift  uint
}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"", 0}}

// sizeSyntax is an integer followed by an optional unit, spaces allowed between.
var sizeSyntax = regexp.MustCompile(`^([0-9]+)\s*([A-Za-z]*)$`)

// bytes returns a positive byte size: a plain integer, or an integer with KiB, MiB or GiB.
func (d *decoder) bytes(n *yaml.Node, path string) (int64, bool) {
	v := deref(n)
	if v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!str" && v.ShortTag() != "!!int") {
		d.addf(n, path, "expected a size such as 8MiB or 1048576, got %s", describe(n))
		return 0, false
	}
	bad := func() (int64, bool) {
		d.addf(n, path, "%q is not a size (use an integer of bytes or an integer with KiB, MiB or GiB)", v.Value)
		return 0, false
	}
	m := sizeSyntax.FindStringSubmatch(strings.TrimSpace(v.Value))
	if m == nil {
		return bad()
	}
	num, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return bad()
	}
	for _, s := range byteSuffixes {
		if m[2] != s.suffix {
			continue
		}
		if num <= 0 || num > math.MaxInt64>>s.shift {
			d.addf(n, path, "%q is out of range (more than 0, less than 8EiB)", v.Value)
			return 0, false
		}
		return num << s.shift, true
	}
	return bad()
}
