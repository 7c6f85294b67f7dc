package eventstore

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Metadata travels with every event so that any step downstream can be tied
// back to the request that caused it.
type Metadata struct {
	TraceID       string `json:"trace_id,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
	CausationID   string `json:"causation_id,omitempty"`
	ActorID       string `json:"actor_id,omitempty"`
	// Depth counts the automations that led to this event: 0 for a person's
	// request, n+1 for a command an automation ran on an event of depth n.
	// It bounds chains of automations triggering each other.
	Depth int `json:"depth,omitempty"`
}

// EventData is an event about to be appended. The store assigns the stream
// version, the global position and the recorded time.
type EventData struct {
	// ID is the event's identity. Zero means "make a new UUIDv7"; a caller sets
	// it when it must know the id before the append (for example to reply with it).
	ID uuid.UUID
	// Type names what happened, for example "AccountOpened".
	Type string
	// SchemaVersion is the version of Data's shape; 0 means 1.
	SchemaVersion int
	// Data is the event payload; it must be a JSON object.
	Data json.RawMessage
	// Metadata is the request context the event was recorded in.
	Metadata Metadata
}

// Event is an event as recorded in the store.
type Event struct {
	ID            uuid.UUID
	StreamID      string
	StreamVersion int64
	Position      Position
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	Metadata      Metadata
	RecordedAt    time.Time
}

// Category returns the part of the stream id before the first '-'.
func (e *Event) Category() string { return Category(e.StreamID) }

// Position is a place in the global log. Readers resume after a Position.
//
// The log is ordered by (TxID, Global). Global alone is not enough on
// Postgres: sequence values are taken when a row is inserted, not when its
// transaction commits, so position 10 can become visible after position 11. A
// reader that had moved past 11 would skip 10 forever. Ordering by the writing
// transaction's id and reading only below the oldest transaction still in
// flight makes the order final once it is read. Drivers that commit in
// position order (SQLite has one writer) leave TxID at zero.
type Position struct {
	// TxID is the id of the transaction that wrote the event (0 on SQLite).
	TxID uint64 `json:"tx_id,omitempty"`
	// Global is the event's global sequence number: unique, increasing within
	// a transaction, with gaps where a transaction rolled back.
	Global int64 `json:"global"`
}

// Start is the position before the first event.
var Start = Position{}

// Less reports whether p comes before q in the global log.
func (p Position) Less(q Position) bool {
	if p.TxID != q.TxID {
		return p.TxID < q.TxID
	}
	return p.Global < q.Global
}
