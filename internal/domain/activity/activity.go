// Package activity is the record of events that happen outside the
// platform and are reported to it (a complaint at the front desk, a
// payment made elsewhere, a campaign e-mail): the "create events" half of
// an event log. Each recorded event is one stream of its own
// ("activity-<id>") holding one ActivityRecorded, since nothing about it
// ever changes and no two of them share state.
package activity

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bluepoint/bluepoint/internal/domain"
)

// Category is the event-stream category of recorded external events.
const Category = "activity"

// StreamID returns the stream of the external event id.
func StreamID(id string) string { return Category + "-" + id }

// Limits of an external event, so that one report cannot bloat the log.
const (
	MaxTypeLength        = 100
	MaxDescriptionLength = 500
	MaxDataBytes         = 64 << 10
	// MaxClockSkew is how far in the future an event may claim to have
	// happened: reporters' clocks drift a little, but an event dated next
	// week is a mistake.
	MaxClockSkew = 5 * time.Minute
)

// ActivityRecorded records one external event as it was reported. Data is
// the reporter's own JSON object (compacted). Who recorded it is in the
// event's metadata, like every command's actor.
type ActivityRecorded struct {
	EventID     string          `json:"event_id"`
	Type        string          `json:"type"`
	Description string          `json:"description"`
	CustomerID  string          `json:"customer_id,omitempty"`
	OccurredAt  time.Time       `json:"occurred_at"`
	Data        json.RawMessage `json:"data"`
}

// Record is the command to record an external event. Whether CustomerID
// names an existing account is for the caller to check: the domain sees no
// other aggregate.
type Record struct {
	ID          string
	Type        string
	Description string
	CustomerID  string
	OccurredAt  time.Time
	Data        json.RawMessage
}

// Decide validates a Record against the time now and returns its event.
// The type is a short identifier ([A-Za-z0-9._-]) so that it can be
// filtered on and counted; the description is free text for people.
func Decide(c Record, now time.Time) (ActivityRecorded, error) {
	desc := strings.TrimSpace(c.Description)
	switch {
	case c.ID == "":
		return ActivityRecorded{}, domain.Invalid("id", "must not be empty")
	case c.Type == "" || len(c.Type) > MaxTypeLength || !isIdentifier(c.Type):
		return ActivityRecorded{}, domain.Invalid("type", "must be 1 to %d letters, digits, '.', '_' or '-'", MaxTypeLength)
	case !utf8.ValidString(desc) || desc == "" || utf8.RuneCountInString(desc) > MaxDescriptionLength:
		return ActivityRecorded{}, domain.Invalid("description", "must be 1 to %d characters of text", MaxDescriptionLength)
	case c.OccurredAt.IsZero():
		return ActivityRecorded{}, domain.Invalid("occurred_at", "is required")
	case c.OccurredAt.After(now.Add(MaxClockSkew)):
		return ActivityRecorded{}, domain.Invalid("occurred_at", "is in the future")
	}
	data, err := object(c.Data)
	if err != nil {
		return ActivityRecorded{}, err
	}
	return ActivityRecorded{EventID: c.ID, Type: c.Type, Description: desc, CustomerID: c.CustomerID,
		// The log keeps microseconds; rounding here makes the reply and the
		// log agree.
		OccurredAt: c.OccurredAt.UTC().Truncate(time.Microsecond), Data: data}, nil
}

// object checks that raw is a JSON object within the size limit and returns
// it compacted ({} when empty).
func object(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage(`{}`), nil
	}
	if len(raw) > MaxDataBytes {
		return nil, domain.Invalid("data", "is %d bytes; the limit is %d", len(raw), MaxDataBytes)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil || buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return nil, domain.Invalid("data", "must be a JSON object")
	}
	return buf.Bytes(), nil
}

func isIdentifier(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// Registrar is the domain's (see domain.Registrar); the alias keeps this
// package's Register signature readable on its own.
type Registrar = domain.Registrar

// Register declares the activity events to reg.
func Register(reg Registrar) { reg.Add("ActivityRecorded", 1, ActivityRecorded{}) }
