package service_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/bluepoint/bluepoint/internal/bench"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/sqlite"
	"github.com/bluepoint/bluepoint/internal/service"
)

// BenchmarkDecode decodes the events of bluepoint bench's generated log
// with the codec, and with encoding/json's Unmarshal into the same types,
// for comparison:
//
//	go test -run '^$' -bench Decode ./internal/service/
func BenchmarkDecode(b *testing.B) {
	store, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(b.TempDir(), "events.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	const n = 20000
	if err := bench.GenerateEvents(context.Background(), store, n, func(string, ...any) {}); err != nil {
		b.Fatal(err)
	}
	events, err := store.ReadAll(context.Background(), &eventstore.ReadAllParams{Limit: n})
	if err != nil {
		b.Fatal(err)
	}
	codec := service.NewCodec()
	types := map[string]reflect.Type{}
	for _, e := range events {
		v, err := codec.Decode(e)
		if err != nil {
			b.Fatal(err)
		}
		types[e.Type] = reflect.TypeOf(v)
	}
	perEvent := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
	}
	b.Run("codec", func(b *testing.B) {
		for b.Loop() {
			for _, e := range events {
				if _, err := codec.Decode(e); err != nil {
					b.Fatal(err)
				}
			}
		}
		perEvent(b)
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			for _, e := range events {
				if err := json.Unmarshal(e.Data, reflect.New(types[e.Type]).Interface()); err != nil {
					b.Fatal(err)
				}
			}
		}
		perEvent(b)
	})
}
