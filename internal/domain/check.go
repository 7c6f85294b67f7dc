package domain

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxID bounds identifiers given in commands.
const MaxID = 100

// Text trims v and checks that it is valid UTF-8 with minLen to maxLen
// characters and no control characters; it returns the trimmed value. Every
// aggregate checks its names and free texts the same way, so they share it.
func Text(field, v string, minLen, maxLen int) (string, error) {
	v = strings.TrimSpace(v)
	n := utf8.RuneCountInString(v)
	switch {
	case !utf8.ValidString(v):
		return "", Invalid(field, "must be valid UTF-8 text")
	case n < minLen && minLen == 1:
		return "", Invalid(field, "is required")
	case n < minLen:
		return "", Invalid(field, "must have at least %d characters", minLen)
	case n > maxLen:
		return "", Invalid(field, "must have at most %d characters, not %d", maxLen, n)
	case strings.ContainsFunc(v, unicode.IsControl):
		return "", Invalid(field, "must not contain control characters such as line breaks or tabs")
	}
	return v, nil
}

// ID checks an identifier: required, at most MaxID bytes, without spaces.
func ID(field, v string) error {
	switch {
	case v == "":
		return Invalid(field, "is required")
	case len(v) > MaxID:
		return Invalid(field, "must have at most %d characters", MaxID)
	case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return Invalid(field, "must not contain spaces or control characters")
	}
	return nil
}

// At checks that the handler gave the command a time: decisions are pure,
// so the time comes in with the command.
func At(t time.Time) error {
	if t.IsZero() {
		return Invalid("at", "is required")
	}
	return nil
}

// Registrar is what a domain package's Register needs from an event codec:
// a type name, the schema version current code writes, and a zero value of
// the Go type. It is declared in the domain, not taken from the codec,
// because the domain imports no infrastructure: the composition root's codec
// satisfies it.
type Registrar interface {
	Add(name string, version int, sample any)
}
