package users

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/bluepoint/bluepoint/internal/domain"
)

// Page sizes of the lists: a limit of 0 or less means DefaultPageSize, and
// a larger one than MaxPageSize means MaxPageSize.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// pageLimit is the number of rows a page holds for the limit asked.
func pageLimit(limit int) int {
	if limit <= 0 {
		return DefaultPageSize
	}
	return min(limit, MaxPageSize)
}

// cutPage trims rows, read with a limit one above the page's, to the
// page: the extra row only tells that another page follows, whose cursor
// is then the last kept row's.
func cutPage[T any](rows []T, limit int, cursor func(T) string) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, cursor(rows[limit-1])
}

// A cursor is a row's sort key and id, base64url-encoded: opaque to
// clients, so that the key can change without breaking them, and checked
// on the way back in, so that a made-up one is an invalid input rather
// than a failing query.
func encodeCursor(key, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key + "|" + id))
}

// decodeCursor reads a cursor whose key is a stored time (see stamp).
func decodeCursor(c string) (at, id string, err error) {
	at, id, ok := splitCursor(c)
	if ok {
		_, err := unstamp(at)
		ok = err == nil && at != ""
	}
	if !ok {
		return "", "", errBadCursor()
	}
	return at, id, nil
}

// decodeIntCursor reads a cursor whose key is a number.
func decodeIntCursor(c string) (n int64, id string, err error) {
	key, id, ok := splitCursor(c)
	if ok {
		n, err = strconv.ParseInt(key, 10, 64)
		ok = err == nil
	}
	if !ok {
		return 0, "", errBadCursor()
	}
	return n, id, nil
}

func splitCursor(c string) (key, id string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", "", false
	}
	key, id, ok = strings.Cut(string(b), "|")
	return key, id, ok && key != "" && id != ""
}

func errBadCursor() error {
	return domain.Invalid("cursor", "is not a cursor this query returned")
}
