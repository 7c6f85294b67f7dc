package eventstore

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxStreamIDLength bounds stream ids so they fit comfortably in an index.
const MaxStreamIDLength = 200

// ExpectedVersion states what the caller believes a stream's version is.
// Positive values are exact versions; the named constants cover the rest.
type ExpectedVersion int64

const (
	// Any appends whatever the stream's version is.
	Any ExpectedVersion = -1
	// NoStream requires that the stream has no events yet.
	NoStream ExpectedVersion = 0
)

// Exact expects the stream to be at version v (v >= 1).
func Exact(v int64) ExpectedVersion { return ExpectedVersion(v) }

func (v ExpectedVersion) String() string {
	switch {
	case v == Any:
		return "any"
	case v == NoStream:
		return "no stream"
	default:
		return fmt.Sprintf("version %d", int64(v))
	}
}

// StreamID builds "<category>-<id>".
func StreamID(category, id string) string { return category + "-" + id }

// Category returns the part of a stream id before the first '-', or the whole
// id when it has none.
func Category(streamID string) string {
	if i := strings.IndexByte(streamID, '-'); i >= 0 {
		return streamID[:i]
	}
	return streamID
}

// ValidateStreamID checks the "<category>-<id>" shape that reads by category
// depend on.
func ValidateStreamID(id string) error {
	switch {
	case id == "":
		return invalid("stream_id", "must not be empty")
	case len(id) > MaxStreamIDLength:
		return invalid("stream_id", fmt.Sprintf("is %d bytes long; the limit is %d", len(id), MaxStreamIDLength))
	case !utf8.ValidString(id):
		return invalid("stream_id", "must be valid UTF-8")
	}
	i := strings.IndexByte(id, '-')
	if i <= 0 || i == len(id)-1 {
		return invalid("stream_id", fmt.Sprintf("%q must have the form <category>-<id>", id))
	}
	for _, r := range id[:i] {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return invalid("stream_id", fmt.Sprintf("category %q may hold only a-z, 0-9 and _", id[:i]))
		}
	}
	return nil
}
