package sinkconfig

import (
	"regexp"

	"gopkg.in/yaml.v3"
)

// envName is what an environment variable name may be.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// sinkKeys are every key a sink may have; which apply depends on its type.
var sinkKeys = []string{
	"name", "type", "streams", "types", "url",
	"format", "batch", // archive
	"secret_env", "timeout", "max_attempts", // webhook
}

// onlyFor lists the keys that belong to one sink type, to refuse them on the other.
var onlyFor = []struct {
	typ  string
	keys []string
}{
	{SinkArchive, []string{"format", "batch"}},
	{SinkWebhook, []string{"secret_env", "timeout", "max_attempts"}},
}

// sink decodes one sinks entry and applies its defaults.
func (d *decoder) sink(n *yaml.Node, path string) Sink {
	s := Sink{Line: n.Line}
	m, ok := d.mapping(n, path, sinkKeys...)
	if !ok {
		return s
	}
	s.Name = d.name(m, n, path)
	if v, ok := m["streams"]; ok {
		s.Streams = d.strList(v, join(path, "streams"), d.stream)
		if dv := deref(v); dv.Kind == yaml.SequenceNode && len(dv.Content) == 0 {
			d.addf(v, join(path, "streams"), "is empty; leave it out to receive all streams")
		}
	}
	if v, ok := m["types"]; ok {
		s.Types = d.strList(v, join(path, "types"), d.eventType)
		if len(s.Types) == 0 {
			s.Types = nil
		}
	}
	v, ok := m["type"]
	if !ok {
		d.addf(n, join(path, "type"), "is required (one of %s)", oneOf(SinkArchive, SinkWebhook))
		return s
	}
	s.Type, ok = d.str(v, join(path, "type"))
	if !ok {
		return s
	}
	if s.Type != SinkArchive && s.Type != SinkWebhook {
		d.addf(v, join(path, "type"), "%q is not one of %s", s.Type, oneOf(SinkArchive, SinkWebhook))
		return s
	}
	for _, o := range onlyFor {
		for _, k := range o.keys {
			if _, set := m[k]; set && o.typ != s.Type {
				d.addf(m[k], join(path, k), "applies only to %s sinks, this one is %s", o.typ, s.Type)
			}
		}
	}
	if _, ok := m["url"]; !ok {
		d.addf(n, join(path, "url"), "is required for %s sinks", s.Type)
	}
	switch s.Type {
	case SinkArchive:
		d.archive(m, path, &s)
	case SinkWebhook:
		d.webhookSink(m, n, path, &s)
	}
	s.applyDefaults()
	return s
}

// archive decodes the archive-only keys.
func (d *decoder) archive(m fields, path string, s *Sink) {
	if v, ok := m["url"]; ok {
		s.URL = d.archiveURL(v, join(path, "url"))
	}
	if v, ok := m["format"]; ok {
		if f, ok := d.str(v, join(path, "format")); ok {
			if f != FormatNDJSON && f != FormatParquet {
				d.addf(v, join(path, "format"), "%q is not one of %s", f, oneOf(FormatNDJSON, FormatParquet))
			}
			s.Format = f
		}
	}
	if v, ok := m["batch"]; ok {
		p := join(path, "batch")
		b, ok := d.mapping(v, p, "max_events", "max_bytes", "max_age")
		if !ok {
			return
		}
		if v, ok := b["max_events"]; ok {
			s.Batch.MaxEvents, _ = d.intIn(v, join(p, "max_events"), 1, 1_000_000)
		}
		if v, ok := b["max_bytes"]; ok {
			s.Batch.MaxBytes, _ = d.bytes(v, join(p, "max_bytes"))
		}
		if v, ok := b["max_age"]; ok {
			s.Batch.MaxAge, _ = d.durationIn(v, join(p, "max_age"), 0)
		}
	}
}

// webhookSink decodes the webhook-only keys.
func (d *decoder) webhookSink(m fields, n *yaml.Node, path string, s *Sink) {
	if v, ok := m["url"]; ok {
		s.URL = d.webhookURL(v, join(path, "url"))
	}
	s.SecretEnv = d.secretEnv(m, n, path)
	if v, ok := m["timeout"]; ok {
		s.Timeout, _ = d.durationIn(v, join(path, "timeout"), MaxTimeout)
	}
	if v, ok := m["max_attempts"]; ok {
		s.MaxAttempts, _ = d.intIn(v, join(path, "max_attempts"), 1, MaxMaxAttempts)
	}
}

// secretEnv reads the required secret_env of a webhook (sink or action) at parent n.
func (d *decoder) secretEnv(m fields, n *yaml.Node, path string) string {
	v, ok := m["secret_env"]
	if !ok {
		d.addf(n, join(path, "secret_env"), "is required: the name of the environment variable holding the HMAC secret")
		return ""
	}
	s, ok := d.str(v, join(path, "secret_env"))
	if ok && !envName.MatchString(s) {
		d.addf(v, join(path, "secret_env"), "%q is not an environment variable name (such as BLUEPOINT_WEBHOOK_SECRET); the secret itself belongs in the environment", s)
	}
	return s
}

// applyDefaults fills what the file left out, per the sink's type.
func (s *Sink) applyDefaults() {
	if s.Streams == nil {
		s.Streams = AllStreams()
	}
	switch s.Type {
	case SinkArchive:
		if s.Format == "" {
			s.Format = FormatNDJSON
		}
		if s.Batch.MaxEvents == 0 {
			s.Batch.MaxEvents = DefaultMaxEvents
		}
		if s.Batch.MaxBytes == 0 {
			s.Batch.MaxBytes = DefaultMaxBytes
		}
		if s.Batch.MaxAge == 0 {
			s.Batch.MaxAge = DefaultMaxAge
		}
	case SinkWebhook:
		if s.Timeout == 0 {
			s.Timeout = DefaultTimeout
		}
		if s.MaxAttempts == 0 {
			s.MaxAttempts = DefaultMaxAttempts
		}
	}
}
