package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gocloud.dev/blob"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// fileBucket opens a file bucket in a fresh temporary directory.
func fileBucket(t *testing.T) (*blob.Bucket, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "archive")
	b, err := Open(context.Background(), "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, dir
}

// fakeClock is a settable clock for batch ages.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

var day = time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)

// event makes a recorded event of a stream at a global position.
func event(stream string, global int64, at time.Time) eventstore.Event {
	return eventstore.Event{
		ID:            uuid.New(),
		StreamID:      stream,
		StreamVersion: global,
		Position:      eventstore.Position{Global: global},
		Type:          "Happened",
		SchemaVersion: 1,
		Data:          json.RawMessage(fmt.Sprintf(`{"n":%d}`, global)),
		RecordedAt:    at,
	}
}

// byCategory archives the categories of the tests under stream names.
func byCategory(e eventstore.Event) string {
	switch e.Category() {
	case "account":
		return "users"
	case "product", "rule":
		return "catalog"
	default:
		return "activity"
	}
}

// readKeys reads every object under prefix.
func readKeys(t *testing.T, b *blob.Bucket, prefix string) map[string][]eventstore.Event {
	t.Helper()
	ctx := context.Background()
	keys, err := List(ctx, b, prefix)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]eventstore.Event, len(keys))
	for _, k := range keys {
		events, err := Read(ctx, b, k)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = events
	}
	return out
}

// noAttrs fails if the file bucket wrote sidecar or temporary files.
func noAttrs(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".attrs") || strings.HasSuffix(path, ".tmp")) {
			t.Errorf("unexpected file %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
