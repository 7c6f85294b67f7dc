package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/sqlite"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
)

// BenchmarkAppend compares the store with plain SQL inserting the same rows.
//
//	go test -run '^$' -bench Append -benchtime 3000x ./internal/eventstore/sqlite/
func BenchmarkAppend(b *testing.B) {
	storetest.BenchmarkAppend(b, storetest.BenchTarget{
		Store: openBenchStore,
		Raw:   rawSQLite,
	}, 3)
}

// rawSQLite migrates a fresh file with the store, then writes to it with
// plain database/sql on one connection (SQLite's one writer), with the same
// durability (WAL, synchronous=FULL).
func rawSQLite(b *testing.B) storetest.RawAppend {
	path := filepath.Join(b.TempDir(), "events.db")
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(ON)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	return func(ctx context.Context, w storetest.RawWrite) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck
		now := time.Now().UnixMicro()
		for j, e := range w.Events {
			meta, _ := json.Marshal(e.Metadata)
			res, err := tx.ExecContext(ctx, `INSERT INTO events (event_id, stream_id, stream_version, category, type, schema_version, data, metadata, recorded_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID.String(), w.StreamID, w.FirstVersion+int64(j), "account", e.Type, 1, string(e.Data), string(meta), now)
			if err != nil {
				return fmt.Errorf("raw insert event: %w", err)
			}
			pos, _ := res.LastInsertId()
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (global_position) VALUES (?)`, pos); err != nil {
				return fmt.Errorf("raw insert outbox: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency (key, fingerprint, status, response, created_at) VALUES (?, 'f', 201, '{"ok":true}', ?)`, w.Key, now); err != nil {
			return fmt.Errorf("raw insert idempotency: %w", err)
		}
		return tx.Commit()
	}
}

// BenchmarkTraceSteps compares random and time-ordered trace ids.
//
//	go test -run '^$' -bench TraceSteps -benchtime 20000x ./internal/eventstore/sqlite/
func BenchmarkTraceSteps(b *testing.B) {
	storetest.BenchmarkTraceSteps(b, openBenchStore, 200_000)
}

// openBenchStore opens a store on a fresh file.
func openBenchStore(b *testing.B) eventstore.Store {
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(b.TempDir(), "events.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
