package product

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bluepoint/bluepoint/internal/domain"
)

// Limits. Prices and stock are capped so that the points of a redemption
// (price times quantity) stay far from overflow and a typo of three extra
// zeros is caught.
const (
	maxSKU         = 64
	maxName        = 200
	minVoucher     = 8
	maxVoucher     = 64
	maxPrice       = 1_000_000
	maxStock       = 1_000_000
	maxRedeemUnits = 100
)

// text and id are the domain's shared checks (see package domain); product
// names and the like are required.
func text(field, v string, maxLen int) (string, error) { return domain.Text(field, v, 1, maxLen) }

func id(field, v string) error { return domain.ID(field, v) }

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

func at(t time.Time) error { return domain.At(t) }
