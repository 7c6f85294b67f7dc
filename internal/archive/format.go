package archive

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/parquet-go/parquet-go"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Formats a Writer can produce.
const (
	// FormatNDJSON is gzip-compressed newline-delimited JSON: readable with
	// standard tools, one event per line.
	FormatNDJSON = "ndjson"
	// FormatParquet is columnar, for query engines and analytics.
	FormatParquet = "parquet"
)

// record is one NDJSON line. Its field names are the archive's public schema.
type record struct {
	ID            uuid.UUID           `json:"id"`
	StreamID      string              `json:"stream_id"`
	StreamVersion int64               `json:"stream_version"`
	Position      recordPosition      `json:"position"`
	Type          string              `json:"type"`
	SchemaVersion int                 `json:"schema_version"`
	Data          json.RawMessage     `json:"data"`
	Metadata      eventstore.Metadata `json:"metadata"`
	RecordedAt    time.Time           `json:"recorded_at"`
}

type recordPosition struct {
	TxID   uint64 `json:"tx_id"`
	Global int64  `json:"global"`
}

// encodeLine returns an event's NDJSON line, newline included. HTML
// characters are left as they are: the archive is not embedded in pages.
func encodeLine(e *eventstore.Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(record{
		ID: e.ID, StreamID: e.StreamID, StreamVersion: e.StreamVersion,
		Position: recordPosition{TxID: e.Position.TxID, Global: e.Position.Global},
		Type:     e.Type, SchemaVersion: e.SchemaVersion, Data: e.Data,
		Metadata: e.Metadata, RecordedAt: e.RecordedAt.UTC(),
	})
	if err != nil {
		return nil, fmt.Errorf("archive: encode event %s: %w", e.ID, err)
	}
	return buf.Bytes(), nil
}

// encodeNDJSON gzips already encoded lines into one object.
func encodeNDJSON(lines [][]byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, l := range lines {
		if _, err := zw.Write(l); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeNDJSON(data []byte) ([]eventstore.Event, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	dec := json.NewDecoder(zr)
	var events []eventstore.Event
	for {
		var r record
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", len(events)+1, err)
		}
		if r.ID == uuid.Nil {
			return nil, fmt.Errorf("line %d: no event id", len(events)+1)
		}
		events = append(events, eventstore.Event{
			ID: r.ID, StreamID: r.StreamID, StreamVersion: r.StreamVersion,
			Position: eventstore.Position{TxID: r.Position.TxID, Global: r.Position.Global},
			Type:     r.Type, SchemaVersion: r.SchemaVersion, Data: r.Data,
			Metadata: r.Metadata, RecordedAt: r.RecordedAt.UTC(),
		})
	}
}

// row is one Parquet row: the NDJSON fields, with data and metadata kept as
// JSON text so that payloads of any shape share one schema.
type row struct {
	ID            string      `parquet:"id"`
	StreamID      string      `parquet:"stream_id"`
	StreamVersion int64       `parquet:"stream_version"`
	Position      rowPosition `parquet:"position"`
	Type          string      `parquet:"type"`
	SchemaVersion int64       `parquet:"schema_version"`
	Data          string      `parquet:"data,json"`
	Metadata      string      `parquet:"metadata,json"`
	RecordedAt    time.Time   `parquet:"recorded_at,timestamp(nanosecond)"`
}

type rowPosition struct {
	TxID   uint64 `parquet:"tx_id"`
	Global int64  `parquet:"global"`
}

func encodeParquet(events []eventstore.Event) ([]byte, error) {
	rows := make([]row, len(events))
	for i := range events {
		e := &events[i]
		meta, err := json.Marshal(e.Metadata)
		if err != nil {
			return nil, fmt.Errorf("encode metadata of %s: %w", e.ID, err)
		}
		rows[i] = row{
			ID: e.ID.String(), StreamID: e.StreamID, StreamVersion: e.StreamVersion,
			Position: rowPosition{TxID: e.Position.TxID, Global: e.Position.Global},
			Type:     e.Type, SchemaVersion: int64(e.SchemaVersion),
			Data: string(e.Data), Metadata: string(meta), RecordedAt: e.RecordedAt.UTC(),
		}
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf, parquet.Compression(&parquet.Zstd))
	if _, err := w.Write(rows); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeParquet(data []byte) ([]eventstore.Event, error) {
	rows, err := parquet.Read[row](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	events := make([]eventstore.Event, len(rows))
	for i, r := range rows {
		id, err := uuid.Parse(r.ID)
		if err != nil {
			return nil, fmt.Errorf("row %d: event id: %w", i+1, err)
		}
		var meta eventstore.Metadata
		if err := json.Unmarshal([]byte(r.Metadata), &meta); err != nil {
			return nil, fmt.Errorf("row %d: metadata: %w", i+1, err)
		}
		events[i] = eventstore.Event{
			ID: id, StreamID: r.StreamID, StreamVersion: r.StreamVersion,
			Position: eventstore.Position{TxID: r.Position.TxID, Global: r.Position.Global},
			Type:     r.Type, SchemaVersion: int(r.SchemaVersion), Data: json.RawMessage(r.Data),
			Metadata: meta, RecordedAt: r.RecordedAt.UTC(),
		}
	}
	return events, nil
}
