package sinkconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads and checks the file at path; see Parse. A missing file is an error that
// wraps fs.ErrNotExist: a caller that makes the file optional decides that itself.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read the sinks and automations file: %w", path, err)
	}
	return Parse(path, data)
}

// Parse checks data as bluepoint.yaml and applies defaults; name is the file name used in
// messages. An empty file (or only comments) is a valid config with nothing declared. On
// any problem it returns a nil File and every problem found, each a *Problem.
func Parse(name string, data []byte) (*File, error) {
	if name == "" {
		name = "<input>"
	}
	d := &decoder{file: name, names: map[string]string{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &File{Version: Version, name: name}, nil
		}
		return nil, d.syntax(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		d.addf(&extra, "", "only one YAML document is allowed (remove the second ---)")
	case !errors.Is(err, io.EOF):
		d.probs = append(d.probs, d.syntax(err))
	}
	f := &File{Version: Version, name: name}
	if len(doc.Content) > 0 && !isNull(doc.Content[0]) {
		d.file1(doc.Content[0], f)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// file1 decodes the top-level mapping into f.
func (d *decoder) file1(n *yaml.Node, f *File) {
	m, ok := d.mapping(n, "", "version", "sinks", "automations")
	if !ok {
		return
	}
	if v, ok := m["version"]; !ok {
		d.addf(n, "version", "is required (add version: %d)", Version)
	} else if i, ok := d.intIn(v, "version", math.MinInt32, math.MaxInt32); ok && i != Version {
		d.addf(v, "version", "%d is not supported; this build reads version %d", i, Version)
	}
	if v, ok := m["sinks"]; ok {
		d.list(v, "sinks", func(item *yaml.Node, path string) {
			f.Sinks = append(f.Sinks, d.sink(item, path))
		})
	}
	if v, ok := m["automations"]; ok {
		d.list(v, "automations", func(item *yaml.Node, path string) {
			f.Automations = append(f.Automations, d.automation(item, path))
		})
	}
}

// list calls each for every item of a sequence.
func (d *decoder) list(n *yaml.Node, path string, each func(item *yaml.Node, path string)) {
	v := deref(n)
	if v.Kind != yaml.SequenceNode {
		d.addf(n, path, "expected a list, got %s", describe(n))
		return
	}
	for i, item := range v.Content {
		each(item, index(path, i))
	}
}

// namePattern is what a sink or automation name may be: it becomes part of durable
// consumer names and trace records, so it is kept to a safe alphabet.
var namePattern = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// name reads the required, unique name of a sink or automation at parent.
func (d *decoder) name(m fields, parent *yaml.Node, path string) string {
	v, ok := m["name"]
	if !ok {
		d.addf(parent, join(path, "name"), "is required")
		return ""
	}
	s, ok := d.str(v, join(path, "name"))
	if !ok {
		return ""
	}
	if !namePattern.MatchString(s) {
		d.addf(v, join(path, "name"), "%q must be 1 to 64 of a-z, 0-9, _ and -", s)
		return s
	}
	if first, dup := d.names[s]; dup {
		d.addf(v, join(path, "name"), "%q is already used by %s", s, first)
		return s
	}
	d.names[s] = fmt.Sprintf("%s (line %d)", path, parent.Line)
	return s
}

// eventTypePattern is what an event type name looks like (DonationMade).
var eventTypePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.]{0,127}$`)

// eventType checks one event type name in a types or on list.
func (d *decoder) eventType(n *yaml.Node, path, s string) bool {
	if !eventTypePattern.MatchString(s) {
		d.addf(n, path, "%q is not an event type name (such as DonationMade)", s)
		return false
	}
	return true
}

// stream checks one stream name in a streams list.
func (d *decoder) stream(n *yaml.Node, path, s string) bool {
	if !slices.Contains(AllStreams(), s) {
		d.addf(n, path, "%q is not one of %s", s, oneOf(AllStreams()...))
		return false
	}
	return true
}

// webhookURL checks an http(s) URL with a host.
func (d *decoder) webhookURL(n *yaml.Node, path string) string {
	s, ok := d.str(n, path)
	if !ok {
		return ""
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		d.addf(n, path, "invalid URL: %v", unwrapURLError(err))
	case u.Scheme != "http" && u.Scheme != "https":
		d.addf(n, path, "%q must be an http:// or https:// URL", s)
	case u.Host == "":
		d.addf(n, path, "%q has no host", s)
	case u.User != nil:
		d.addf(n, path, "%q carries credentials; put the secret in the environment (secret_env)", u.Redacted())
	}
	return s
}

// archiveURL checks a blob storage URL: file:///absolute/dir, file://./relative/dir, or
// s3://bucket with options as query parameters (region, endpoint, prefix, ...).
func (d *decoder) archiveURL(n *yaml.Node, path string) string {
	s, ok := d.str(n, path)
	if !ok {
		return ""
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		d.addf(n, path, "invalid URL: %v", unwrapURLError(err))
	case u.Scheme == "file" && u.Host != "" && u.Host != "." && u.Host != "localhost":
		// file://data/archive parses with host "data", which blob storage ignores.
		d.addf(n, path, "%q names host %q; use file:///absolute/dir or file://./relative/dir", s, u.Host)
	case u.Scheme == "file" && strings.Trim(u.Path, "/") == "":
		d.addf(n, path, "%q has no directory", s)
	case u.Scheme == "s3" && u.Host == "":
		d.addf(n, path, "%q has no bucket (s3://bucket)", s)
	case u.Scheme == "s3" && strings.Trim(u.Path, "/") != "":
		d.addf(n, path, "%q has a path, which s3 URLs ignore; use s3://%s?prefix=%s/", s, u.Host, strings.Trim(u.Path, "/"))
	case u.Scheme != "file" && u.Scheme != "s3":
		d.addf(n, path, "%q must be a file:// or s3:// URL", s)
	}
	return s
}

// unwrapURLError drops net/url's "parse <url>:" prefix, which repeats the value.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
