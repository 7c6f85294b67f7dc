package pii

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// ErrUnsupported says that a value cannot be walked for `pii` fields: it is
// not a non-nil pointer to a struct, or a tagged field is not a settable
// string outside maps, or a tag value is unknown.
var ErrUnsupported = errors.New("pii: unsupported value for field sealing")

// tagName is the struct tag that marks personal fields: `pii:"true"`.
const tagName = "pii"

// fieldRef is one tagged string field found by the walk.
type fieldRef struct {
	path  string
	value reflect.Value
}

// collectFields finds every tagged string field reachable from v, checking
// all of them before any is changed. Fields reached twice (through two
// pointers to one struct) are listed once, so nothing is sealed twice.
func collectFields(v any) ([]fieldRef, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: got %T, want a non-nil pointer to a struct", ErrUnsupported, v)
	}
	w := walker{seenPtr: map[ptrKey]bool{}, seenField: map[uintptr]bool{}}
	if err := w.walk(rv.Elem(), rv.Elem().Type().String()); err != nil {
		return nil, err
	}
	return w.out, nil
}

// ptrKey names a followed pointer; the type matters because a struct and its
// first field share an address.
type ptrKey struct {
	addr uintptr
	typ  reflect.Type
}

type walker struct {
	out       []fieldRef
	seenPtr   map[ptrKey]bool  // pointers already followed, against cycles
	seenField map[uintptr]bool // addresses of fields already listed
}

func (w *walker) walk(v reflect.Value, path string) error {
	if !hasPII(v.Type()) {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		k := ptrKey{v.Pointer(), v.Type()}
		if v.IsNil() || w.seenPtr[k] {
			return nil
		}
		w.seenPtr[k] = true
		return w.walk(v.Elem(), path)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := w.walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		return fmt.Errorf("%w: %s: tagged fields inside a map cannot be set; use a slice", ErrUnsupported, path)
	case reflect.Struct:
		return w.walkStruct(v, path)
	}
	return nil
}

func (w *walker) walkStruct(v reflect.Value, path string) error {
	t := v.Type()
	for i := range t.NumField() {
		sf, fv := t.Field(i), v.Field(i)
		p := path + "." + sf.Name
		tagged, err := isTagged(sf)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrUnsupported, p, err)
		}
		if !tagged {
			if err := w.walk(fv, p); err != nil {
				return err
			}
			continue
		}
		if fv.Kind() != reflect.String {
			return fmt.Errorf("%w: %s is tagged pii but is a %s; only string fields can be sealed", ErrUnsupported, p, fv.Type())
		}
		if !fv.CanSet() {
			return fmt.Errorf("%w: %s is tagged pii but cannot be set (unexported, or not addressable)", ErrUnsupported, p)
		}
		if addr := fv.UnsafeAddr(); !w.seenField[addr] {
			w.seenField[addr] = true
			w.out = append(w.out, fieldRef{path: p, value: fv})
		}
	}
	return nil
}

// isTagged reads the pii tag: "true" marks a personal field; "false" or no
// tag does not; anything else is a typo worth failing on.
func isTagged(sf reflect.StructField) (bool, error) {
	tag, ok := sf.Tag.Lookup(tagName)
	switch {
	case !ok || tag == "false":
		return false, nil
	case tag == "true":
		return true, nil
	default:
		return false, fmt.Errorf("pii tag %q: want \"true\" or \"false\"", tag)
	}
}

// piiTypes caches, per type, whether any pii tag is reachable from it, so the
// walk skips the many fields (times, numbers, ids) that cannot hold any.
var piiTypes sync.Map // reflect.Type -> bool

func hasPII(t reflect.Type) bool {
	if v, ok := piiTypes.Load(t); ok {
		return v.(bool)
	}
	has := typeHasPII(t, map[reflect.Type]bool{})
	piiTypes.Store(t, has)
	return has
}

// typeHasPII answers hasPII for t. Results for types met while a cycle is
// open could be incomplete, so only hasPII, at the root, caches.
func typeHasPII(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if v, ok := piiTypes.Load(t); ok {
		return v.(bool)
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return typeHasPII(t.Elem(), visiting)
	case reflect.Map:
		return typeHasPII(t.Key(), visiting) || typeHasPII(t.Elem(), visiting)
	case reflect.Struct:
		if visiting[t] {
			return false
		}
		visiting[t] = true
		for i := range t.NumField() {
			sf := t.Field(i)
			if _, ok := sf.Tag.Lookup(tagName); ok || typeHasPII(sf.Type, visiting) {
				return true
			}
		}
	}
	return false
}
