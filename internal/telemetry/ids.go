package telemetry

import (
	"context"
	"encoding/binary"
	"math/rand/v2"

	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/bluepoint/bluepoint/internal/traceid"
)

// ids gives new spans trace ids made as Bluepoint makes its own (see
// package traceid): a request without a caller's trace id takes its span's
// as its Bluepoint trace id, and trace steps are stored by that id.
type ids struct{}

func (ids) NewIDs(context.Context) (oteltrace.TraceID, oteltrace.SpanID) {
	return oteltrace.TraceID(traceid.New()), newSpanID()
}

func (ids) NewSpanID(context.Context, oteltrace.TraceID) oteltrace.SpanID { return newSpanID() }

// newSpanID is 64 random bits, never all zero (W3C's invalid span id).
func newSpanID() oteltrace.SpanID {
	var id oteltrace.SpanID
	for !id.IsValid() {
		binary.BigEndian.PutUint64(id[:], rand.Uint64())
	}
	return id
}
