package archive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gocloud.dev/blob"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Defaults for a Writer's zero limits: small enough that an object is cheap
// to read back and that events reach the archive within a minute, large
// enough that a busy stream does not produce a flood of tiny objects.
const (
	DefaultMaxEvents = 1000
	DefaultMaxBytes  = 8 << 20
	DefaultMaxAge    = time.Minute
)

// Writer batches events into archive objects, one batch per partition
// (stream name and UTC date of RecordedAt). A partition is written when it
// holds MaxEvents events or MaxBytes bytes of encoded events (an object may
// exceed MaxBytes by its last event), when FlushDue finds it older than
// MaxAge, or on Flush. Buffered events are lost if the process dies, which
// is why the caller acknowledges an event upstream only once the object
// holding it has been reported (see the package documentation).
//
// A Writer is safe for concurrent use; set its fields before the first call.
type Writer struct {
	// Bucket receives the objects.
	Bucket *blob.Bucket
	// Format is FormatNDJSON (the default when empty) or FormatParquet.
	Format string
	// StreamOf names the archive stream an event belongs to (users,
	// transactions, catalog, activity). Nil means the event's category.
	StreamOf func(eventstore.Event) string
	// MaxEvents, MaxBytes and MaxAge bound a batch; zero means the default.
	MaxEvents int
	MaxBytes  int
	MaxAge    time.Duration
	// Now is the clock that ages batches; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	parts map[partKey]*partition
}

// ObjectInfo describes a written object, so that the caller can acknowledge
// exactly the events it holds.
type ObjectInfo struct {
	Key    string
	Stream string
	Date   string // yyyy-mm-dd, UTC
	// Size is the object's size in bytes.
	Size int64
	// First and Last are the positions of the object's first and last events.
	First, Last eventstore.Position
	// IDs are the object's events, in the order they were added.
	IDs []uuid.UUID
}

type partKey struct{ stream, date string }

type partition struct {
	events []eventstore.Event
	lines  [][]byte // NDJSON lines; nil for Parquet
	bytes  int
	opened time.Time // when the first event was added
}

// Add buffers an event and writes its partition if that reached a limit. It
// returns the objects written. An error after buffering (a failed write)
// leaves the event buffered: the write is tried again by the next Add to
// that partition, FlushDue or Flush, so the caller must not add it again.
func (w *Writer) Add(ctx context.Context, e eventstore.Event) ([]ObjectInfo, error) {
	if err := w.check(); err != nil {
		return nil, err
	}
	stream := w.streamOf(e)
	if stream == "" || strings.ContainsAny(stream, "/=") {
		return nil, fmt.Errorf("archive: event %s: invalid stream name %q", e.ID, stream)
	}
	if e.ID == uuid.Nil || e.RecordedAt.IsZero() {
		return nil, fmt.Errorf("archive: event %s: no id or recorded time", e.ID)
	}
	// The NDJSON line measures the event for MaxBytes in both formats.
	line, err := encodeLine(&e)
	if err != nil {
		return nil, err
	}
	size := len(line)
	if w.format() != FormatNDJSON {
		line = nil
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.parts == nil {
		w.parts = make(map[partKey]*partition)
	}
	k := partKey{stream: stream, date: e.RecordedAt.UTC().Format(time.DateOnly)}
	p := w.parts[k]
	if p == nil {
		p = &partition{opened: w.now()}
		w.parts[k] = p
	}
	p.events = append(p.events, e)
	if line != nil {
		p.lines = append(p.lines, line)
	}
	p.bytes += size
	if len(p.events) < w.maxEvents() && p.bytes < w.maxBytes() {
		return nil, nil
	}
	info, err := w.flush(ctx, k, p)
	if err != nil {
		return nil, err
	}
	return []ObjectInfo{info}, nil
}

// FlushDue writes every partition that has waited MaxAge or longer, so that
// a quiet stream still reaches the archive (and gets acknowledged) in time.
// Call it periodically, for example every few seconds.
func (w *Writer) FlushDue(ctx context.Context) ([]ObjectInfo, error) {
	cutoff := w.now().Add(-w.maxAge())
	return w.flushWhere(ctx, func(p *partition) bool { return !p.opened.After(cutoff) })
}

// Flush writes every buffered partition, for a clean shutdown. On an error
// it still tries the other partitions and reports what it wrote.
func (w *Writer) Flush(ctx context.Context) ([]ObjectInfo, error) {
	return w.flushWhere(ctx, func(*partition) bool { return true })
}

func (w *Writer) flushWhere(ctx context.Context, due func(*partition) bool) ([]ObjectInfo, error) {
	if err := w.check(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	keys := make([]partKey, 0, len(w.parts))
	for k, p := range w.parts {
		if due(p) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].stream != keys[j].stream {
			return keys[i].stream < keys[j].stream
		}
		return keys[i].date < keys[j].date
	})
	var infos []ObjectInfo
	var errs []error
	for _, k := range keys {
		info, err := w.flush(ctx, k, w.parts[k])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		infos = append(infos, info)
	}
	return infos, errors.Join(errs...)
}

// flush writes one partition and forgets it once the object is complete.
// Called with w.mu held.
func (w *Writer) flush(ctx context.Context, k partKey, p *partition) (ObjectInfo, error) {
	var data []byte
	var err error
	ext, contentType := ndjsonSuffix, "application/x-ndjson"
	if w.format() == FormatParquet {
		ext, contentType = parquetSuffix, "application/vnd.apache.parquet"
		data, err = encodeParquet(p.events)
	} else {
		data, err = encodeNDJSON(p.lines)
	}
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("archive: encode stream=%s/date=%s: %w", k.stream, k.date, err)
	}
	first, last := p.events[0].Position, p.events[len(p.events)-1].Position
	var rnd [4]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	key := fmt.Sprintf("stream=%s/date=%s/%020d-%020d-%s%s", k.stream, k.date, first.Global, last.Global, hex.EncodeToString(rnd[:]), ext)
	if err := writeObject(ctx, w.Bucket, key, contentType, data); err != nil {
		return ObjectInfo{}, err
	}
	ids := make([]uuid.UUID, len(p.events))
	for i := range p.events {
		ids[i] = p.events[i].ID
	}
	delete(w.parts, k)
	return ObjectInfo{Key: key, Stream: k.stream, Date: k.date, Size: int64(len(data)), First: first, Last: last, IDs: ids}, nil
}

func (w *Writer) check() error {
	if w.Bucket == nil {
		return errors.New("archive: writer has no bucket")
	}
	if f := w.format(); f != FormatNDJSON && f != FormatParquet {
		return fmt.Errorf("archive: unknown format %q (want %s or %s)", w.Format, FormatNDJSON, FormatParquet)
	}
	return nil
}

func (w *Writer) format() string {
	if w.Format == "" {
		return FormatNDJSON
	}
	return w.Format
}

func (w *Writer) streamOf(e eventstore.Event) string {
	if w.StreamOf == nil {
		return e.Category()
	}
	return w.StreamOf(e)
}

func (w *Writer) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

func (w *Writer) maxEvents() int {
	if w.MaxEvents <= 0 {
		return DefaultMaxEvents
	}
	return w.MaxEvents
}

func (w *Writer) maxBytes() int {
	if w.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return w.MaxBytes
}

func (w *Writer) maxAge() time.Duration {
	if w.MaxAge <= 0 {
		return DefaultMaxAge
	}
	return w.MaxAge
}
