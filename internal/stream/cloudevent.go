package stream

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"
)

// The CloudEvents extension attributes that carry what an event has beyond
// the core attributes. The spec allows only lower-case letters and digits in
// attribute names. 64-bit numbers travel as decimal strings: a CloudEvents
// Integer has 32 bits.
const (
	extTraceID        = "traceid"
	extCorrelationID  = "correlationid"
	extCausationID    = "causationid"
	extActorID        = "actorid"
	extStreamVersion  = "streamversion"
	extGlobalPosition = "globalposition"
	extTxID           = "txid"
	extSchemaVersion  = "schemaversion"
	extDepth          = "depth"
)

// contentType is the only data content type events have.
const contentType = event.ApplicationJSON

// Encode renders a recorded event as a CloudEvents 1.0 structured JSON
// message: id, source, type, subject (the event-store stream id), time (when
// it was recorded), data (the payload, byte for byte) and the metadata as
// extensions. The result is validated, so what goes on the wire is a valid
// CloudEvent that any CloudEvents reader understands.
func Encode(e eventstore.Event, source string) ([]byte, error) {
	if e.ID == uuid.Nil {
		return nil, errors.New("stream: encode: event has no id")
	}
	ce := event.New(event.CloudEventsVersionV1)
	ce.SetID(e.ID.String())
	ce.SetSource(source)
	ce.SetType(e.Type)
	ce.SetSubject(e.StreamID)
	if !e.RecordedAt.IsZero() {
		ce.SetTime(e.RecordedAt)
	}
	ce.SetDataContentType(contentType)
	if len(e.Data) > 0 {
		if !json.Valid(e.Data) {
			return nil, fmt.Errorf("stream: encode event %s: data is not valid JSON", e.ID)
		}
		// Set directly: SetData would base64 a []byte or re-marshal the JSON.
		ce.DataEncoded = e.Data
	}
	for name, v := range map[string]string{
		extTraceID:       e.Metadata.TraceID,
		extCorrelationID: e.Metadata.CorrelationID,
		extCausationID:   e.Metadata.CausationID,
		extActorID:       e.Metadata.ActorID,
	} {
		if v != "" {
			ce.SetExtension(name, v)
		}
	}
	ce.SetExtension(extStreamVersion, strconv.FormatInt(e.StreamVersion, 10))
	ce.SetExtension(extGlobalPosition, strconv.FormatInt(e.Position.Global, 10))
	if e.Position.TxID != 0 {
		ce.SetExtension(extTxID, strconv.FormatUint(e.Position.TxID, 10))
	}
	schema := e.SchemaVersion
	if schema == 0 {
		schema = 1
	}
	ce.SetExtension(extSchemaVersion, int32(schema))
	if e.Metadata.Depth > 0 {
		ce.SetExtension(extDepth, int32(e.Metadata.Depth))
	}
	if err := ce.Validate(); err != nil {
		return nil, fmt.Errorf("stream: encode event %s: %w", e.ID, err)
	}
	// MarshalJSON directly: json.Marshal would compact the data.
	body, err := ce.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("stream: encode event %s: %w", e.ID, err)
	}
	return body, nil
}

// Decode is the inverse of Encode. It rejects a body that is not a valid
// CloudEvent, or not one that Encode could have written, with an error that
// says why: a consumer should park such a message, not guess.
func Decode(body []byte) (eventstore.Event, error) {
	// The SDK's own parser, called directly: json.Unmarshal would scan the
	// body twice before handing it over (to validate it, then to find the
	// object's end). json.Valid is the first of those scans, kept because
	// the parser stops at the object's end and would take trailing data.
	var ce event.Event
	if !json.Valid(body) {
		// The slow path, for the error that says where and why (it runs
		// the same check as json.Valid, so it fails too).
		var v any
		return eventstore.Event{}, fmt.Errorf("stream: decode: not a CloudEvent: %w", json.Unmarshal(body, &v))
	}
	if err := ce.UnmarshalJSON(body); err != nil {
		return eventstore.Event{}, fmt.Errorf("stream: decode: not a CloudEvent: %w", err)
	}
	if err := ce.Validate(); err != nil {
		return eventstore.Event{}, fmt.Errorf("stream: decode: invalid CloudEvent: %w", err)
	}
	if ce.SpecVersion() != event.CloudEventsVersionV1 {
		return eventstore.Event{}, fmt.Errorf("stream: decode: CloudEvents version %q, want %q", ce.SpecVersion(), event.CloudEventsVersionV1)
	}
	id, err := uuid.Parse(ce.ID())
	if err != nil {
		return eventstore.Event{}, fmt.Errorf("stream: decode: id %q is not a UUID: %w", ce.ID(), err)
	}
	if ce.Subject() == "" {
		return eventstore.Event{}, fmt.Errorf("stream: decode event %s: no subject (stream id)", id)
	}
	if ct := ce.DataMediaType(); len(ce.DataEncoded) > 0 && ct != contentType {
		return eventstore.Event{}, fmt.Errorf("stream: decode event %s: data content type %q, want %q", id, ct, contentType)
	}
	if ce.DataBase64 {
		return eventstore.Event{}, fmt.Errorf("stream: decode event %s: data is base64, want JSON", id)
	}
	e := eventstore.Event{
		ID:         id,
		StreamID:   ce.Subject(),
		Type:       ce.Type(),
		RecordedAt: ce.Time(),
	}
	if len(ce.DataEncoded) > 0 {
		e.Data = json.RawMessage(ce.DataEncoded)
	}
	ext := extensions(ce.Extensions())
	e.Metadata = eventstore.Metadata{
		TraceID:       ext.str(extTraceID),
		CorrelationID: ext.str(extCorrelationID),
		CausationID:   ext.str(extCausationID),
		ActorID:       ext.str(extActorID),
	}
	e.StreamVersion = ext.int(extStreamVersion)
	e.Position.Global = ext.int(extGlobalPosition)
	e.Position.TxID = uint64(ext.int(extTxID))
	e.SchemaVersion = int(ext.int(extSchemaVersion))
	e.Metadata.Depth = int(ext.int(extDepth))
	if ext.err != nil {
		return eventstore.Event{}, fmt.Errorf("stream: decode event %s: %w", id, ext.err)
	}
	return e, nil
}

// extReader reads extension values, remembering the first bad one.
type extReader struct {
	m   map[string]any
	err error
}

func extensions(m map[string]any) *extReader { return &extReader{m: m} }

func (r *extReader) str(name string) string {
	switch v := r.m[name].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		r.fail(name, v)
		return ""
	}
}

func (r *extReader) int(name string) int64 {
	switch v := r.m[name].(type) {
	case nil:
		return 0
	case int32:
		if v < 0 {
			r.fail(name, v)
			return 0
		}
		return int64(v)
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			r.fail(name, v)
		}
		return n
	default:
		r.fail(name, v)
		return 0
	}
}

func (r *extReader) fail(name string, v any) {
	if r.err == nil {
		r.err = fmt.Errorf("extension %s has a bad value %v (%T)", name, v, v)
	}
}
