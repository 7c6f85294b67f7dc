package command_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/sqlite"
)

// BenchmarkLoad loads an aggregate of 10,000 events, the stream of a busy
// merchant or officer, with and without the state cache. With it, a load
// reads the (empty) tail after the cached version instead of the stream.
func BenchmarkLoad(b *testing.B) {
	const events = 10_000
	st := storeForBench(b)
	id := newID()
	for range events / 500 {
		batch := make([]eventstore.EventData, 500) // the store gives each event an id
		for i := range batch {
			batch[i] = eventstore.EventData{Type: "Deposited", Data: json.RawMessage(`{"amount":1}`)}
		}
		_, err := st.Append(context.Background(), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{{
			StreamID: accounts.Stream(id), Expected: eventstore.Any, Events: batch,
		}}})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		size int
	}{{"cache", 0}, {"nocache", -1}} {
		b.Run(c.name, func(b *testing.B) {
			p, err := command.New(st, newBankCodec(), command.Config{StateCacheSize: c.size})
			if err != nil {
				b.Fatal(err)
			}
			req := &command.Request{Name: "Load", Handle: func(ctx context.Context, s *command.Session) (command.Result, error) {
				a, _, err := command.Load(ctx, s, accounts, id)
				if err == nil && a.Balance != events {
					b.Fatalf("balance = %d, want %d", a.Balance, events)
				}
				return command.Result{}, err
			}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Run(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func storeForBench(b *testing.B) eventstore.Store {
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(b.TempDir(), "events.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
