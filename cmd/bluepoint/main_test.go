package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/api/apitest"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// The binary tests run the real executable, as an operator would, and check
// what only a separate process shows: flags and exit codes, the JSON log on
// stderr, and a clean stop on SIGTERM.

func TestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bluepoint")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("version", func(t *testing.T) { testVersion(t, bin) })
	t.Run("bad flag", func(t *testing.T) { testBadFlag(t, bin) })
	t.Run("serve sqlite", func(t *testing.T) { runServe(t, bin, nil, "--data-dir", t.TempDir()) })
	t.Run("first start creates staff once", func(t *testing.T) { testFirstStaff(t, bin) })
	t.Run("archive and dead letters", func(t *testing.T) { testArchiveCLI(t, bin) })
	t.Run("serve postgres", func(t *testing.T) { testServePostgres(t, bin) })
}

func testVersion(t *testing.T, bin string) {
	out := runToEnd(t, bin, "version")
	if !strings.HasPrefix(out, "bluepoint ") || !strings.Contains(out, " go1.") {
		t.Fatalf("version printed %q, want \"bluepoint <version> <go version>\"", out)
	}
}

func testBadFlag(t *testing.T, bin string) {
	cmd := exec.Command(bin, "serve", "--log-level", "loud")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit: %v, want code 2", err)
	}
	if !strings.Contains(stderr.String(), "--log-level") {
		t.Errorf("stderr %q does not name the flag", stderr.String())
	}
}

// testServePostgres migrates a fresh schema with its own application role,
// serves from it, and drops both at the end.
func testServePostgres(t *testing.T, bin string) {
	url := testenv.Postgres(t)
	d := apitest.NewDeployment(t, url)
	schema, role, suffix := d.Schema, d.Role, d.Suffix

	args := []string{"--database-url", url, "--database-schema", schema, "--app-role", role, "--data-dir", t.TempDir()}
	out := runToEnd(t, bin, append([]string{"migrate", "--app-password", "test-" + suffix}, args...)...)
	if !strings.Contains(out, "migrated postgres schema "+schema) {
		t.Errorf("migrate printed %q, want it to name the schema", out)
	}
	runServe(t, bin, nil, args...)
}

// The embedded default creates a staff account on first start and prints
// its credentials once; an operator can add staff while the server runs.
func testFirstStaff(t *testing.T, bin string) {
	dir := t.TempDir()
	first := runServe(t, bin, func() {
		out := runToEnd(t, bin, "admin", "create-staff", "--data-dir", dir, "--email", "second@example.org", "--password", "a long enough password")
		if !strings.Contains(out, "created staff account ") {
			t.Errorf("create-staff while serving printed %q", out)
		}
	}, "--data-dir", dir)
	if !strings.Contains(first, "email:    admin@bluepoint.localhost") || !strings.Contains(first, "password: ") {
		t.Fatalf("first start printed %q, want the staff credentials", first)
	}
	if again := runServe(t, bin, nil, "--data-dir", dir); strings.Contains(again, "password") {
		t.Fatalf("second start printed credentials again: %q", again)
	}
	if info, err := os.Stat(filepath.Join(dir, "secrets", "master.key")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("master key file: %v %v", info, err)
	}
}

// runToEnd runs a command that ends by itself and returns its stdout.
func runToEnd(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bluepoint %s: %v\nstderr:\n%s", args[0], err, stderr.String())
	}
	return stdout.String()
}

// runServe starts serve on a free port, waits until it is ready, checks its
// endpoints, runs during (if set) while it serves, stops it with SIGTERM,
// checks the exit code and the log, and returns what it printed on stdout.
func runServe(t *testing.T, bin string, during func(), args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, append([]string{"serve", "--listen", addr}, args...)...)
	var stderr, stdout lockedBuffer
	cmd.Stderr, cmd.Stdout = &stderr, &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})

	base := "http://" + addr
	waitReady(t, base+"/readyz", exited, &stderr)

	status, body := httpGet(t, base+"/healthz")
	if status != http.StatusOK || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Errorf("GET /healthz = %d %q, want 200 {\"status\":\"ok\"}", status, body)
	}

	if during != nil {
		during()
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("after SIGTERM: %v, want exit code 0; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit within 20s of SIGTERM; stderr:\n%s", stderr.String())
	}
	checkJSONLog(t, stderr.String(), addr)
	return stdout.String()
}

// waitReady polls url until it answers 200, the process exits, or a deadline
// passes.
func waitReady(t *testing.T, url string, exited <-chan error, stderr *lockedBuffer) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("serve exited before it was ready: %v; stderr:\n%s", err, stderr.String())
		case <-deadline:
			t.Fatalf("%s not 200 within 30s; stderr:\n%s", url, stderr.String())
		case <-tick.C:
		}
	}
}

// checkJSONLog checks that every stderr line is a JSON log record and that
// the log says where the server listened.
func checkJSONLog(t *testing.T, log, addr string) {
	t.Helper()
	listening := false
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var rec struct {
			Time  time.Time `json:"time"`
			Level string    `json:"level"`
			Msg   string    `json:"msg"`
			Addr  string    `json:"addr"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.Level == "" || rec.Msg == "" || rec.Time.IsZero() {
			t.Errorf("stderr line is not a JSON log record: %q", sc.Text())
			continue
		}
		if rec.Msg == "listening" && rec.Addr == addr {
			listening = true
		}
	}
	if !listening {
		t.Errorf("no \"listening\" record with addr %s in:\n%s", addr, log)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lockedBuffer collects a child's stderr while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serve archives what happens while it runs (here: staff accounts created
// beside it); after it stops, archive verify finds the archive complete and
// the dead-letter stream is empty.
func testArchiveCLI(t *testing.T, bin string) {
	dir := t.TempDir()
	conf := filepath.Join(t.TempDir(), "bluepoint.yaml")
	yaml := "version: 1\nsinks:\n  - name: lake\n    type: archive\n    url: file://" + filepath.Join(dir, "archive") +
		"\n    batch: {max_events: 10, max_age: 100ms}\n"
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	runServe(t, bin, func() {
		for i := 0; i < 3; i++ {
			runToEnd(t, bin, "admin", "create-staff", "--data-dir", dir, "--email", fmt.Sprintf("ops%d@example.org", i), "--password", "a long enough password")
		}
		// The serve process relays and archives; poll verify until it agrees.
		deadline := time.Now().Add(30 * time.Second)
		for {
			cmd := exec.Command(bin, "archive", "verify", "--data-dir", dir, "--config", conf, "--sink", "lake")
			out, err := cmd.Output()
			if err == nil && strings.Contains(string(out), "store events: 4") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("archive verify never passed: %v\n%s", err, out)
			}
			time.Sleep(50 * time.Millisecond) // polling with a deadline
		}
	}, "--data-dir", dir, "--config", conf)
	out := runToEnd(t, bin, "dlq", "list", "--data-dir", dir)
	if !strings.Contains(out, "no dead letters") {
		t.Fatalf("dlq list printed %q", out)
	}
	if out := runToEnd(t, bin, "replay", "--data-dir", dir, "--projection", "users"); !strings.Contains(out, "rebuilt users from 4 events") {
		t.Fatalf("replay printed %q", out)
	}
	csv := filepath.Join(t.TempDir(), "features.csv")
	runToEnd(t, bin, "export", "features", "--data-dir", dir, "--format", "csv", "--out", csv)
	data, err := os.ReadFile(csv)
	if err != nil || strings.Count(string(data), "\n") != 5 { // header and 4 staff accounts
		t.Fatalf("export wrote %q, %v", data, err)
	}
}
