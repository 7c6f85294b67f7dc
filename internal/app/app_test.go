package app

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluepoint/bluepoint/internal/config"
)

func sqliteConfig(t *testing.T) config.Config {
	t.Helper()
	return config.Config{
		DataDir: filepath.Join(t.TempDir(), "nested", "data"),
		Listen:  "127.0.0.1:0",
	}.WithDefaults()
}

func TestStartStopSQLite(t *testing.T) {
	cfg := sqliteConfig(t)
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&^dataDirPerm != 0 {
		t.Errorf("data dir mode %v, want at most %v", perm, os.FileMode(dataDirPerm))
	}
	if _, err := os.Stat(cfg.SQLitePath()); err != nil {
		t.Errorf("database file: %v", err)
	}

	resp, err := http.Get("http://" + a.Addr().String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz = %s, want 200", resp.Status)
	}

	if err := a.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := http.Get("http://" + a.Addr().String() + "/healthz"); err == nil {
		t.Error("the server still answers after Stop")
	}
	if err := a.store.Ping(t.Context()); err == nil {
		t.Error("the store still answers after Stop")
	}
}

func TestStartFailsWhenAddressIsTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := sqliteConfig(t)
	cfg.Listen = taken.Addr().String()
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	err = a.Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), "listen on "+cfg.Listen) {
		t.Fatalf("Start = %v, want a listen error naming the address", err)
	}
	if a.store == nil || !a.storeClosed {
		t.Error("Start left the store open after failing")
	}
	// Stop after a failed Start has nothing left to do.
	if err := a.Stop(t.Context()); err != nil {
		t.Errorf("Stop after failed Start: %v", err)
	}
}
