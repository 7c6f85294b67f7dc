package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/archive"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/service"
)

// A command travels the whole way: appended with its outbox row, relayed to
// the embedded stream engine, archived by the sink bluepoint.yaml declares,
// and every step is in its trace.
func TestCommandReachesTheArchive(t *testing.T) {
	cfg := sqliteConfig(t)
	archiveDir := filepath.Join(t.TempDir(), "archive")
	cfg.SinksFile = filepath.Join(t.TempDir(), "bluepoint.yaml")
	yaml := fmt.Sprintf("version: 1\nsinks:\n  - name: lake\n    type: archive\n    url: file://%s\n    batch: {max_events: 5, max_age: 100ms}\n", archiveDir)
	if err := os.WriteFile(cfg.SinksFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	if _, err := os.Stat(cfg.NATSStoreDir()); err != nil {
		t.Fatalf("the embedded stream engine keeps no store under the data dir: %v", err)
	}
	_, err = a.service.OpenAccount(t.Context(), service.Call{TraceID: "tr-e2e"}, service.OpenAccount{
		Kind: account.Civilian, Name: "Ana", Email: "ana@example.org", Password: "long enough pw"})
	if err != nil {
		t.Fatal(err)
	}
	bucket, err := archive.Open(t.Context(), "file://"+archiveDir)
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rep, err := archive.Verify(t.Context(), bucket, a.store, archive.VerifyOptions{})
		if err == nil && rep.OK() && rep.StoreEvents >= 2 { // the first staff account and Ana
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("archive never matched the store: %+v %v", rep, err)
		}
		time.Sleep(25 * time.Millisecond) // polling with a deadline
	}
	steps, err := a.store.TraceSteps(t.Context(), "tr-e2e")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"command.OpenAccount applied", "relay published", "sink.lake delivered"}
	for i, w := range want {
		if i >= len(steps) || steps[i].Step+" "+steps[i].Status != w {
			t.Fatalf("trace %+v, want %v", steps, want)
		}
	}
}
