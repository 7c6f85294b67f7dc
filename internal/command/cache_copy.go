package command

import (
	"reflect"
	"sync"
	"time"
)

// A state leaves the cache (or a session's memory of it) as a copy, because
// Evolve and handlers are free to change the state they are given: a map
// changed in place would otherwise change the cached state under the feet of
// every other session, a data race at best and a wrong balance at worst.
//
// A state of plain values is copied by assignment. A state holding maps,
// slices, pointers or interfaces needs a Clone (the Aggregate's, or a method
// of its type); without one it is not cached at all and is folded from its
// events on every Load, as before the cache existed.

// cloner is a state type that deep-copies itself.
type cloner[S any] interface{ Clone() S }

// copyFunc returns how to copy a state of type S, and false when it cannot
// be copied safely and must not be cached.
func copyFunc[S any](clone func(S) S) (func(S) S, bool) {
	if clone != nil {
		return clone, true
	}
	info := typeInfoOf[S]()
	switch {
	case info.hasClone:
		return func(s S) S { return any(&s).(cloner[S]).Clone() }, true
	case info.plain:
		return func(s S) S { return s }, true
	}
	return nil, false
}

type typeInfo struct {
	plain    bool // holds nothing that assignment would share
	hasClone bool // S or *S has a method Clone() S
}

// typeInfos memoizes typeInfoOf: every Load asks, and the answer for a type
// never changes.
var typeInfos sync.Map // reflect.Type -> typeInfo

func typeInfoOf[S any]() typeInfo {
	t := reflect.TypeFor[S]()
	if v, ok := typeInfos.Load(t); ok {
		return v.(typeInfo)
	}
	info := typeInfo{
		plain:    isPlain(t),
		hasClone: reflect.PointerTo(t).Implements(reflect.TypeFor[cloner[S]]()),
	}
	typeInfos.Store(t, info)
	return info
}

var timeType = reflect.TypeFor[time.Time]()

// isPlain reports whether a copy of a value of type t by assignment shares
// nothing mutable with the original. Strings are immutable; time.Time holds
// a *Location that is never changed once made.
func isPlain(t reflect.Type) bool {
	if t == timeType {
		return true
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return t.Len() == 0 || isPlain(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !isPlain(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	// Maps, slices, pointers, interfaces, channels, functions: shared by
	// assignment. A recursive type needs one of them, so this terminates.
	return false
}
