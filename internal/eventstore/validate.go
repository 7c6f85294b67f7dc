package eventstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// MaxEventDataBytes is the largest event payload accepted.
const MaxEventDataBytes = 1 << 20

// maxIDLength bounds keys, types and trace ids.
const maxIDLength = 200

// Validate checks an append before anything touches the database, fills the
// defaults drivers rely on (event ids, schema versions, times) and returns the
// first problem as a *ValidationError.
func (p *AppendParams) Validate(now time.Time) error {
	if p == nil || len(p.Streams) == 0 {
		return invalid("streams", "at least one stream is required")
	}
	seen := make(map[string]bool, len(p.Streams))
	for i := range p.Streams {
		s := &p.Streams[i]
		field := fmt.Sprintf("streams[%d]", i)
		if err := ValidateStreamID(s.StreamID); err != nil {
			return prefix(field, err)
		}
		if seen[s.StreamID] {
			return invalid(field+".stream_id", fmt.Sprintf("%s appears more than once", s.StreamID))
		}
		seen[s.StreamID] = true
		if s.Expected < Any {
			return invalid(field+".expected", fmt.Sprintf("%d is not a version: use a version >= 1, NoStream (0) or Any (-1)", int64(s.Expected)))
		}
		for j := range s.Events {
			if err := s.Events[j].validate(); err != nil {
				return prefix(fmt.Sprintf("%s.events[%d]", field, j), err)
			}
		}
	}
	if r := p.Idempotency; r != nil {
		if r.Key == "" || len(r.Key) > maxIDLength {
			return invalid("idempotency.key", fmt.Sprintf("must be 1 to %d bytes", maxIDLength))
		}
		if r.Response != nil && !json.Valid(r.Response) {
			return invalid("idempotency.response", "is not valid JSON")
		}
		if r.CreatedAt.IsZero() {
			r.CreatedAt = now
		}
	}
	for i := range p.Claims {
		if err := p.Claims[i].validate(); err != nil {
			return prefix(fmt.Sprintf("claims[%d]", i), err)
		}
	}
	for i := range p.Releases {
		if err := p.Releases[i].validate(); err != nil {
			return prefix(fmt.Sprintf("releases[%d]", i), err)
		}
	}
	for i := range p.Credentials {
		if err := p.Credentials[i].validate(); err != nil {
			return prefix(fmt.Sprintf("credentials[%d]", i), err)
		}
	}
	for i := range p.DataKeys {
		if err := p.DataKeys[i].validate(); err != nil {
			return prefix(fmt.Sprintf("data_keys[%d]", i), err)
		}
	}
	for i := range p.TraceSteps {
		if err := p.TraceSteps[i].validate(now); err != nil {
			return prefix(fmt.Sprintf("trace_steps[%d]", i), err)
		}
	}
	return nil
}

func (e *EventData) validate() error {
	if e.ID == uuid.Nil {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("new event id: %w", err)
		}
		e.ID = id
	}
	if e.Type == "" || len(e.Type) > maxIDLength {
		return invalid("type", fmt.Sprintf("must be 1 to %d bytes", maxIDLength))
	}
	if e.SchemaVersion < 0 {
		return invalid("schema_version", "must not be negative")
	}
	if e.SchemaVersion == 0 {
		e.SchemaVersion = 1
	}
	if len(e.Data) > MaxEventDataBytes {
		return invalid("data", fmt.Sprintf("is %d bytes; the limit is %d", len(e.Data), MaxEventDataBytes))
	}
	if len(e.Data) == 0 || e.Data[0] != '{' || !json.Valid(e.Data) {
		return invalid("data", "must be a JSON object")
	}
	return nil
}

// Validate checks a trace step and stamps its time when unset.
func (s *TraceStep) validate(now time.Time) error {
	if s.TraceID == "" || len(s.TraceID) > maxIDLength {
		return invalid("trace_id", fmt.Sprintf("must be 1 to %d bytes", maxIDLength))
	}
	if s.Step == "" {
		return invalid("step", "must not be empty")
	}
	if s.At.IsZero() {
		s.At = now
	}
	return nil
}

// ValidateTraceSteps checks steps recorded outside an append.
func ValidateTraceSteps(steps []TraceStep, now time.Time) error {
	for i := range steps {
		if err := steps[i].validate(now); err != nil {
			return prefix(fmt.Sprintf("trace_steps[%d]", i), err)
		}
	}
	return nil
}

// Validate checks a stream read.
func (p *ReadStreamParams) Validate() error {
	if err := ValidateStreamID(p.StreamID); err != nil {
		return err
	}
	if p.FromVersion < 0 {
		return invalid("from_version", "must not be negative")
	}
	if p.Limit < 0 {
		return invalid("limit", "must not be negative")
	}
	return nil
}

// Validate checks a global read and fills the default limit.
func (p *ReadAllParams) Validate() error {
	if p.After.Global < 0 {
		return invalid("after", "must not be negative")
	}
	if p.Limit < 0 {
		return invalid("limit", "must not be negative")
	}
	if p.Limit == 0 {
		p.Limit = DefaultReadAllLimit
	}
	return nil
}

func prefix(field string, err error) error {
	if ve, ok := err.(*ValidationError); ok {
		return &ValidationError{Field: field + "." + ve.Field, Reason: ve.Reason}
	}
	return err
}
