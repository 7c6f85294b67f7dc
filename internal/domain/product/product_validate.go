package product

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bluepoint/bluepoint/internal/domain"
)

// Limits. Prices and stock are capped so that the points of a redemption
// (price times quantity) stay far from overflow and a typo of three extra
// zeros is caught.
const (
	maxSKU         = 64
	maxName        = 200
	maxID          = 100
	minVoucher     = 8
	maxVoucher     = 64
	maxPrice       = 1_000_000
	maxStock       = 1_000_000
	maxRedeemUnits = 100
)

// text trims v and checks that it has 1 to maxLen characters and no control
// characters. It returns the trimmed value.
func text(field, v string, maxLen int) (string, error) {
	v = strings.TrimSpace(v)
	n := utf8.RuneCountInString(v)
	switch {
	case !utf8.ValidString(v):
		return "", domain.Invalid(field, "must be valid UTF-8 text")
	case n == 0:
		return "", domain.Invalid(field, "is required")
	case n > maxLen:
		return "", domain.Invalid(field, "must have at most %d characters, not %d", maxLen, n)
	case strings.ContainsFunc(v, unicode.IsControl):
		return "", domain.Invalid(field, "must not contain control characters such as line breaks or tabs")
	}
	return v, nil
}

// id checks an identifier: required, short, without spaces.
func id(field, v string) error {
	switch {
	case v == "":
		return domain.Invalid(field, "is required")
	case len(v) > maxID:
		return domain.Invalid(field, "must have at most %d characters", maxID)
	case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return domain.Invalid(field, "must not contain spaces or control characters")
	}
	return nil
}

// code checks a code made of ASCII letters, digits and the given extra
// characters, minLen to maxLen long: SKUs and vouchers, which people type.
func code(field, v, extra string, minLen, maxLen int) error {
	if len(v) < minLen || len(v) > maxLen {
		if v == "" {
			return domain.Invalid(field, "is required")
		}
		return domain.Invalid(field, "must have %d to %d characters, not %d", minLen, maxLen, utf8.RuneCountInString(v))
	}
	for _, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(extra, r)) {
			return domain.Invalid(field, "may hold only letters A-Z and a-z, digits and %q, not %q", extra, r)
		}
	}
	return nil
}

// within checks that n is between lo and hi.
func within(field string, n, lo, hi int64) error {
	if n < lo || n > hi {
		return domain.Invalid(field, "must be between %d and %d, not %d", lo, hi, n)
	}
	return nil
}

// at checks that the handler gave the command a time.
func at(t time.Time) error {
	if t.IsZero() {
		return domain.Invalid("at", "is required")
	}
	return nil
}
