package sinkconfig

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with the file. Load, Parse and Resolve return every problem
// they find joined with errors.Join, so one run shows all of them; errors.As finds the
// first, and a type switch over Unwrap() []error finds them all.
type Problem struct {
	// File is the name given to Load or Parse.
	File string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Path locates the value in the document, e.g. sinks[1].batch.max_bytes (0-based
	// indexes); empty for the document itself.
	Path string
	// Message says what is wrong and, where it helps, what is accepted.
	Message string
}

// Error renders the problem as file:line:column: path: message, the form editors and
// terminals turn into a link to the spot.
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, ":%d", p.Column)
		}
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// decoder walks the yaml.Node tree and collects problems instead of stopping at the first.
type decoder struct {
	file  string
	probs []error
	names map[string]string // entry name -> path and line of its first use
}

// addf records a problem at node n.
func (d *decoder) addf(n *yaml.Node, path, format string, args ...any) {
	p := &Problem{File: d.file, Path: path, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.probs = append(d.probs, p)
}

// err returns the collected problems in file order, or nil.
func (d *decoder) err() error {
	slices.SortStableFunc(d.probs, func(a, b error) int {
		pa, pb := a.(*Problem), b.(*Problem)
		return cmp.Or(cmp.Compare(pa.Line, pb.Line), cmp.Compare(pa.Column, pb.Column))
	})
	return errors.Join(d.probs...)
}

// yamlLine matches yaml.v3's syntax errors, which carry the line only inside the message.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntax turns a yaml.v3 syntax error into a Problem with the line it names.
func (d *decoder) syntax(err error) error {
	msg := err.Error()
	p := &Problem{File: d.file, Message: strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Message = m[2]
	}
	p.Message = "invalid YAML: " + p.Message
	return p
}

// join extends a document path with a key.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index extends a document path with a sequence index.
func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// oneOf renders a choice list for messages: "a, b or c" reads worse in a grep than "a, b, c".
func oneOf(choices ...string) string {
	return strings.Join(choices, ", ")
}
