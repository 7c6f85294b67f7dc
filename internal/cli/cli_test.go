package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

// run calls Program.Run and returns the exit code and both outputs.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Program{Version: "v1.2.3", Stdout: &out, Stderr: &errOut}.Run(t.Context(), args)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	if want := "bluepoint v1.2.3 " + runtime.Version() + "\n"; code != ExitOK || out != want {
		t.Fatalf("version = (%d, %q), want (0, %q)", code, out, want)
	}
}

func TestResolveVersion(t *testing.T) {
	withSettings := func(kv ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
		for i := 0; i < len(kv); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return info
	}
	tests := []struct {
		name, linked string
		info         *debug.BuildInfo
		want         string
	}{
		{"linked wins", "v2.0.0", withSettings("vcs.revision", "abc"), "v2.0.0"},
		{"vcs revision", "", withSettings("vcs.revision", "abc", "vcs.modified", "false"), "abc"},
		{"dirty tree", "", withSettings("vcs.revision", "abc", "vcs.modified", "true"), "abc-dirty"},
		{"module version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}}, "v0.3.0"},
		{"nothing known", "", withSettings(), "devel"},
		{"no build info", "", nil, "devel"},
	}
	for _, tt := range tests {
		if got := resolveVersion(tt.linked, tt.info); got != tt.want {
			t.Errorf("%s: resolveVersion = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // all must appear on stderr
	}{
		{"no command", nil, nil, []string{"expected one of"}},
		{"unknown command", nil, []string{"bogus"}, []string{"bogus"}},
		{"unknown flag", nil, []string{"serve", "--no-such-flag"}, []string{"--no-such-flag"}},
		{"bad log level", nil, []string{"serve", "--log-level", "trace"}, []string{"--log-level (BLUEPOINT_LOG_LEVEL)", `"trace"`}},
		{"bad synchronous from env", map[string]string{"BLUEPOINT_SQLITE_SYNCHRONOUS": "OFF"}, []string{"serve"}, []string{"--sqlite-synchronous (BLUEPOINT_SQLITE_SYNCHRONOUS)", `"OFF"`}},
		{"bad duration from env", map[string]string{"BLUEPOINT_SHUTDOWN_TIMEOUT": "soon"}, []string{"serve"}, []string{"--shutdown-timeout", "BLUEPOINT_SHUTDOWN_TIMEOUT", "soon"}},
		{"mysql url on migrate", nil, []string{"migrate", "--database-url", "mysql://u:hunter2@h/db"}, []string{"--database-url (BLUEPOINT_DATABASE_URL)"}},
		{"bad memory limit", nil, []string{"serve", "--memory-limit", "lots"}, []string{"--memory-limit", "BLUEPOINT_MEMORY_LIMIT", `"lots"`}},
		{"two bad fields", nil, []string{"serve", "--listen", "nohost", "--log-level", "loud"}, []string{"--listen", "--log-level"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, out, errOut := run(t, tt.args...)
			if code != ExitUsage {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, ExitUsage, errOut)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if !strings.HasPrefix(errOut, "bluepoint: error: ") {
				t.Errorf("stderr = %q, want it to start with %q", errOut, "bluepoint: error: ")
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr = %q, want it to contain %q", errOut, w)
				}
			}
			if strings.Contains(errOut, "hunter2") {
				t.Errorf("stderr = %q shows the database password", errOut)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := run(t, "serve", "--help")
	if code != ExitOK {
		t.Fatalf("exit code %d, want 0", code)
	}
	for _, w := range []string{"--data-dir", "$BLUEPOINT_DATA_DIR", "Default: 127.0.0.1:8080", "Default: 10s"} {
		if !strings.Contains(out, w) {
			t.Errorf("help does not mention %q:\n%s", w, out)
		}
	}
}

func TestMigrateSQLite(t *testing.T) {
	clearEnv(t)
	dir := filepath.Join(t.TempDir(), "new")
	code, out, errOut := run(t, "migrate", "--data-dir", dir)
	if code != ExitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, errOut)
	}
	db := filepath.Join(dir, "bluepoint.db")
	if !strings.Contains(out, "migrated sqlite event store "+db) {
		t.Errorf("stdout = %q, want it to say what was migrated", out)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("database file: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServeStopsWhenContextEnds runs serve in-process on a random port,
// reads the address from the log, and checks that cancelling the context (a
// signal, in Main) ends it with exit code 0.
func TestServeStopsWhenContextEnds(t *testing.T) {
	clearEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Program{Stdout: &bytes.Buffer{}, Stderr: &stderr}.Run(ctx,
			[]string{"serve", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0"})
	}()

	addr := waitForListenAddr(t, &stderr, done)
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /readyz: %s, want 200", resp.Status)
	}

	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("exit code %d, want 0; log:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Errorf("log does not record the stop:\n%s", stderr.String())
	}
}

// waitForListenAddr polls the log for the "listening" record.
func waitForListenAddr(t *testing.T, log *syncBuffer, done <-chan int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(log.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				return rec.Addr
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before listening; log:\n%s", code, log.String())
		case <-tick.C:
		}
	}
	t.Fatalf("no listening record within 10s; log:\n%s", log.String())
	return ""
}
