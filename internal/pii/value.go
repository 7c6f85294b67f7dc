package pii

import (
	"context"
	"fmt"
	"reflect"
)

// SealValue returns a copy of v (a struct value, such as a domain event) with
// its personal fields sealed for subjectID, leaving v itself untouched:
// events travel as values, and the caller's copy keeps the plaintext. A value
// that is not a struct is returned as it is.
func SealValue(ctx context.Context, c *Cipher, subjectID string, v any) (any, error) {
	return onCopy(v, func(p any) error { return SealFields(ctx, c, subjectID, p) })
}

// OpenValue returns a copy of v with its sealed fields opened, as OpenFields
// does (erased subjects read as [Erased]).
func OpenValue(ctx context.Context, c *Cipher, v any) (any, error) {
	return onCopy(v, func(p any) error { return OpenFields(ctx, c, p) })
}

func onCopy(v any, fn func(ptr any) error) (any, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Struct {
		return v, nil
	}
	cp := reflect.New(rv.Type())
	cp.Elem().Set(rv)
	if err := fn(cp.Interface()); err != nil {
		return nil, fmt.Errorf("%s: %w", rv.Type(), err)
	}
	return cp.Elem().Interface(), nil
}
