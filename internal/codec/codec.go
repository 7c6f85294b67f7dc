// Package codec turns domain events (plain Go structs) into the bytes the
// event store keeps, and back.
//
// The store deliberately knows nothing about domain types: it holds a type
// name, a schema version and a JSON object. A Registry maps each type name to
// its Go type and to the schema version current code writes. Events recorded
// under an older schema are brought up to date by upcasters before they are
// unmarshalled, so aggregates and projections only ever see the current shape
// and history never has to be rewritten.
package codec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Upcaster rewrites a payload of one schema version into the next one. It
// receives and returns a JSON object; it must be pure, because it runs every
// time an old event is read.
type Upcaster func(data json.RawMessage) (json.RawMessage, error)

// Registry maps event type names to Go types, schema versions and upcasters.
// It is filled once at start-up and then used concurrently: all methods are
// safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	byName    map[string]*entry
	byType    map[reflect.Type]*entry
	upcasters map[string]map[int]Upcaster // type name -> from version -> upcaster
}

type entry struct {
	name    string
	version int
	typ     reflect.Type // never a pointer type
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		byName:    make(map[string]*entry),
		byType:    make(map[reflect.Type]*entry),
		upcasters: make(map[string]map[int]Upcaster),
	}
}

// Register makes T known under name, written at schema version version (the
// current one; 1 for a type that never changed shape).
//
// T should be a struct type that marshals to a JSON object. Encode accepts a T
// or a *T; Decode returns a T (not a pointer), so that an aggregate's Evolve
// can switch on value types.
//
// Registration is part of wiring the program, not of handling input, so a
// mistake (an empty or taken name, a Go type registered twice, a version below
// 1) panics instead of returning an error nobody could act on.
func Register[T any](r *Registry, name string, version int) {
	r.register(name, version, reflect.TypeFor[T]())
}

// Add registers the type of sample under name, as Register does. It lets
// packages that must not import the codec (the domain) list their event types
// through a small interface of their own.
func (r *Registry) Add(name string, version int, sample any) {
	typ := reflect.TypeOf(sample)
	if typ == nil {
		panic(fmt.Sprintf("codec: register %s: nil sample", name))
	}
	r.register(name, version, typ)
}

func (r *Registry) register(name string, version int, typ reflect.Type) {
	if typ.Kind() == reflect.Pointer {
		panic(fmt.Sprintf("codec: register %s: use the element type %s, not a pointer", name, typ.Elem()))
	}
	if name == "" {
		panic(fmt.Sprintf("codec: register %s: empty type name", typ))
	}
	if version < 1 {
		panic(fmt.Sprintf("codec: register %s: schema version %d is below 1", name, version))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.byName[name]; ok {
		panic(fmt.Sprintf("codec: register %s: name already taken by %s", name, e.typ))
	}
	if e, ok := r.byType[typ]; ok {
		panic(fmt.Sprintf("codec: register %s: %s is already registered as %s", name, typ, e.name))
	}
	e := &entry{name: name, version: version, typ: typ}
	r.byName[name] = e
	r.byType[typ] = e
}

// Upcast registers fn to turn payloads of type name at schema version from
// into version from+1. Decode chains them (1 -> 2 -> 3 ...), so every step
// from the oldest recorded version up to the current one needs an upcaster;
// Check reports the gaps.
//
// Like Register, a misuse (from below 1, a step registered twice) panics.
func (r *Registry) Upcast(name string, from int, fn Upcaster) {
	if from < 1 {
		panic(fmt.Sprintf("codec: upcast %s: from version %d is below 1", name, from))
	}
	if fn == nil {
		panic(fmt.Sprintf("codec: upcast %s v%d: nil upcaster", name, from))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	steps := r.upcasters[name]
	if steps == nil {
		steps = make(map[int]Upcaster)
		r.upcasters[name] = steps
	}
	if _, ok := steps[from]; ok {
		panic(fmt.Sprintf("codec: upcast %s v%d: already registered", name, from))
	}
	steps[from] = fn
}

// Check verifies the registry's wiring: every upcaster belongs to a registered
// type and leads to its current version, and every type has the full chain
// from version 1. Run it at start-up (and in a test) so that a missing step
// shows up before an old event is read.
func (r *Registry) Check() error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for name, steps := range r.upcasters {
		e, ok := r.byName[name]
		if !ok {
			return fmt.Errorf("codec: upcasters for %s, which is not registered: %w", name, ErrUnknownType)
		}
		for from := range steps {
			if from >= e.version {
				return fmt.Errorf("codec: upcaster %s v%d goes past the current version %d", name, from, e.version)
			}
		}
	}
	for name, e := range r.byName {
		for from := 1; from < e.version; from++ {
			if r.upcasters[name][from] == nil {
				return fmt.Errorf("codec: %s is at version %d but has no upcaster from v%d", name, e.version, from)
			}
		}
	}
	return nil
}

// Types returns the registered type names, sorted, for example to build a ReadAll
// filter or to document what a stream may carry.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.byName))
	for name := range r.byName {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Encode turns a registered domain event (a T or a non-nil *T) into event data
// carrying its type name and current schema version. Metadata and ID are left
// for the caller to fill.
func (r *Registry) Encode(v any) (eventstore.EventData, error) {
	typ := reflect.TypeOf(v)
	if typ == nil {
		return eventstore.EventData{}, fmt.Errorf("codec: encode nil: %w", ErrUnknownType)
	}
	if typ.Kind() == reflect.Pointer {
		if reflect.ValueOf(v).IsNil() {
			return eventstore.EventData{}, fmt.Errorf("codec: encode nil %s", typ)
		}
		typ = typ.Elem()
	}
	r.mu.RLock()
	e, ok := r.byType[typ]
	r.mu.RUnlock()
	if !ok {
		return eventstore.EventData{}, fmt.Errorf("codec: encode %s: %w", typ, ErrUnknownType)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return eventstore.EventData{}, fmt.Errorf("codec: encode %s: %w", e.name, err)
	}
	if len(data) == 0 || data[0] != '{' {
		return eventstore.EventData{}, fmt.Errorf("codec: encode %s: %s does not marshal to a JSON object", e.name, typ)
	}
	return eventstore.EventData{Type: e.name, SchemaVersion: e.version, Data: data}, nil
}
