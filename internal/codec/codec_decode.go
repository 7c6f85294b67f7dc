package codec

import (
	"fmt"
	"reflect"

	// A drop-in for encoding/json's Unmarshal at a quarter of its CPU on
	// our payloads: decoding is most of a read model's work in a rebuild.
	// It refuses what encoding/json refuses; a test holds its values to
	// encoding/json's on every event of the demo (demo_test.go).
	"github.com/segmentio/encoding/json"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Decode turns a recorded event into its domain value (a T as registered).
// Payloads recorded under an older schema version are passed through the
// upcasters first, one version at a time.
//
// Every failure is a *DecodeError naming the event's type, stream and
// version; an unregistered type also matches ErrUnknownType.
func (r *Registry) Decode(ev eventstore.Event) (any, error) {
	r.mu.RLock()
	e, ok := r.byName[ev.Type]
	steps := r.upcasters[ev.Type]
	r.mu.RUnlock()
	if !ok {
		return nil, decodeError(ev, ErrUnknownType)
	}
	version := ev.SchemaVersion
	if version == 0 {
		version = 1 // the store's convention for "never versioned"
	}
	if version > e.version {
		return nil, decodeError(ev, fmt.Errorf("schema version %d is newer than the %d this program knows", version, e.version))
	}
	data := ev.Data
	for ; version < e.version; version++ {
		up := steps[version]
		if up == nil {
			return nil, decodeError(ev, fmt.Errorf("no upcaster from v%d", version))
		}
		next, err := up(data)
		if err != nil {
			return nil, decodeError(ev, fmt.Errorf("upcast v%d to v%d: %w", version, version+1, err))
		}
		data = next
	}
	ptr := reflect.New(e.typ)
	if err := json.Unmarshal(data, ptr.Interface()); err != nil {
		return nil, decodeError(ev, fmt.Errorf("unmarshal into %s: %w", e.typ, err))
	}
	return ptr.Elem().Interface(), nil
}

func decodeError(ev eventstore.Event, err error) error {
	return &DecodeError{
		Type:          ev.Type,
		SchemaVersion: ev.SchemaVersion,
		StreamID:      ev.StreamID,
		StreamVersion: ev.StreamVersion,
		Err:           err,
	}
}
