package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/google/uuid"
	"gocloud.dev/blob"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// MaxListed caps each id list of a Report; the counts are always complete.
const MaxListed = 100

// VerifyOptions selects what Verify compares.
type VerifyOptions struct {
	// Streams maps each archived stream name to the event categories it
	// holds, so that Verify expects exactly those events of the store in the
	// archive. Empty means every event of the store.
	Streams map[string][]string
	// Progress, when set, is called after each archive object is read with
	// the number of objects read and the total.
	Progress func(done, total int)
}

// Report is the result of Verify.
type Report struct {
	// StoreEvents is the number of events in the store that the archive
	// should hold; ArchivedEvents counts the events in the archive's
	// objects, duplicates included.
	StoreEvents, ArchivedEvents int
	// Missing are events in the store and not in the archive.
	Missing      []uuid.UUID
	MissingCount int
	// Duplicates are events archived more than once.
	Duplicates     []uuid.UUID
	DuplicateCount int
	// Mismatched are archived events whose content differs from the store.
	Mismatched    []uuid.UUID
	MismatchCount int
	// Unknown are archived events the store does not have (among the
	// selected categories).
	Unknown      []uuid.UUID
	UnknownCount int
}

// OK reports whether the archive holds every selected event of the store
// exactly once, as the store has it, and nothing else.
func (r *Report) OK() bool {
	return r.MissingCount == 0 && r.DuplicateCount == 0 && r.MismatchCount == 0 && r.UnknownCount == 0
}

type archived struct {
	sum   [sha256.Size]byte
	count int
	seen  bool // found in the store
}

// Verify compares the archive in bucket with the store's global log: every
// selected store event must be archived once, with the same content. It
// keeps a digest per archived event in memory, not the events.
func Verify(ctx context.Context, bucket *blob.Bucket, store eventstore.Store, opts VerifyOptions) (Report, error) {
	var rep Report
	keys, err := List(ctx, bucket, "")
	if err != nil {
		return rep, err
	}
	index := make(map[uuid.UUID]*archived)
	for i, key := range keys {
		events, err := Read(ctx, bucket, key)
		if err != nil {
			return rep, err
		}
		for j := range events {
			e := &events[j]
			rep.ArchivedEvents++
			a := index[e.ID]
			if a == nil {
				a = &archived{sum: digest(e)}
				index[e.ID] = a
			}
			a.count++
			if a.count == 2 {
				listID(&rep.Duplicates, &rep.DuplicateCount, e.ID)
			}
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(keys))
		}
	}

	var categories []string
	for _, cats := range opts.Streams {
		categories = append(categories, cats...)
	}
	sort.Strings(categories)
	after := eventstore.Start
	for {
		batch, err := store.ReadAll(ctx, &eventstore.ReadAllParams{After: after, Categories: categories})
		if err != nil {
			return rep, fmt.Errorf("archive: read store after %d: %w", after.Global, err)
		}
		if len(batch) == 0 {
			break
		}
		for i := range batch {
			e := &batch[i]
			rep.StoreEvents++
			a := index[e.ID]
			switch {
			case a == nil:
				listID(&rep.Missing, &rep.MissingCount, e.ID)
			case a.sum != digest(e):
				a.seen = true
				listID(&rep.Mismatched, &rep.MismatchCount, e.ID)
			default:
				a.seen = true
			}
		}
		after = batch[len(batch)-1].Position
	}

	var unknown []uuid.UUID
	for id, a := range index {
		if !a.seen {
			unknown = append(unknown, id)
		}
	}
	sort.Slice(unknown, func(i, j int) bool { return bytes.Compare(unknown[i][:], unknown[j][:]) < 0 })
	for _, id := range unknown {
		listID(&rep.Unknown, &rep.UnknownCount, id)
	}
	return rep, nil
}

func listID(list *[]uuid.UUID, count *int, id uuid.UUID) {
	*count++
	if len(*list) < MaxListed {
		*list = append(*list, id)
	}
}

// digest fingerprints everything an archive keeps of an event. Data and
// metadata are compared as JSON values, not text, because a store may
// normalize whitespace and key order.
func digest(e *eventstore.Event) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	num := func(v uint64) {
		binary.BigEndian.PutUint64(n[:], v)
		h.Write(n[:])
	}
	field([]byte(e.StreamID))
	num(uint64(e.StreamVersion))
	num(e.Position.TxID)
	num(uint64(e.Position.Global))
	field([]byte(e.Type))
	num(uint64(e.SchemaVersion))
	field(canonicalJSON(e.Data))
	meta, _ := json.Marshal(e.Metadata) // a struct of strings always encodes
	field(meta)
	num(uint64(e.RecordedAt.UnixNano()))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// canonicalJSON re-encodes a JSON value with sorted keys and no spacing;
// invalid JSON is returned as it is, so that it still compares by bytes.
func canonicalJSON(raw json.RawMessage) []byte {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	out, err := json.Marshal(v) // map keys are sorted by encoding/json
	if err != nil {
		return raw
	}
	return out
}
