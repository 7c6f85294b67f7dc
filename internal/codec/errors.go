package codec

import (
	"errors"
	"fmt"
)

// ErrUnknownType says that an event type (or Go type) was never registered.
// Reading a stream that holds one usually means the program is older than
// the data, or a registration is missing from the wiring.
var ErrUnknownType = errors.New("unknown event type")

// DecodeError says which recorded event could not be decoded, so that an
// operator can find it in the store, and why.
type DecodeError struct {
	Type          string
	SchemaVersion int
	StreamID      string
	StreamVersion int64
	Err           error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("codec: decode %s v%d at %s@%d: %v", e.Type, e.SchemaVersion, e.StreamID, e.StreamVersion, e.Err)
}

// Unwrap exposes the cause, for errors.Is(err, ErrUnknownType) and friends.
func (e *DecodeError) Unwrap() error { return e.Err }
