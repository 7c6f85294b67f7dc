package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bluepoint/bluepoint/internal/app"
	"github.com/bluepoint/bluepoint/internal/config"
)

// hwmPoll is how often wait reads a child's peak resident set: the peak
// only grows, so the last read is at most this late.
const hwmPoll = 20 * time.Millisecond

// readyTimeout bounds how long a server may take to answer /readyz.
const readyTimeout = 2 * time.Minute

// process is a child running this binary.
type process struct {
	cmd     *exec.Cmd
	app     *app.App // instead of cmd: a server in this process
	url     string
	logPath string
	done    chan struct{}
	waitErr error
	// hwm is the largest VmHWM wait read (MB).
	hwm float64
	// Ready is how long the process took from start to its first 200 from
	// /readyz.
	Ready time.Duration
}

// configArgs are the flags that point a child at cfg's storage, and set
// what the benchmark was asked to set.
func configArgs(cfg config.Config) []string {
	args := []string{"--data-dir", cfg.DataDir}
	if cfg.HashConcurrency > 0 {
		args = append(args, "--hash-concurrency", strconv.Itoa(cfg.HashConcurrency))
	}
	if !cfg.UsesSQLite() {
		args = append(args, "--database-url", cfg.DatabaseURL, "--database-schema", cfg.DatabaseSchema,
			"--app-role", cfg.AppRole, "--nats-url", cfg.NATSURL, "--stream-prefix", cfg.StreamPrefix)
	}
	return args
}

// childEnv is the environment without BLUEPOINT_ variables: the flags say
// everything, and an operator's settings (sinks, a real database) must not
// leak into a benchmark.
func childEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BLUEPOINT_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// spawn starts the binary with args, its output in a log file.
func (r *runner) spawn(ctx context.Context, name string, args ...string) (*process, error) {
	r.seq++
	logPath := filepath.Join(r.cfg.TempDir, fmt.Sprintf("%s-%d.log", name, r.seq))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := r.cfg.Command(ctx, args...)
	cmd.Env = childEnv(cmd.Env)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// SIGTERM first, so that a cancelled run still lets the child shut
	// down cleanly.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	p := &process{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// startServe runs `serve` on cfg and waits until /readyz answers 200.
func (r *runner) startServe(ctx context.Context, cfg config.Config) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	began := time.Now()
	p, err := r.spawn(ctx, "serve", append([]string{"serve", "--listen", addr}, configArgs(cfg)...)...)
	if err != nil {
		return nil, err
	}
	p.url = "http://" + addr
	if err := p.waitReady(ctx, began); err != nil {
		stopErr := p.stop()
		return nil, errors.Join(err, stopErr)
	}
	return p, nil
}

// waitReady polls /readyz every 2 ms: cold start is measured with it.
func (p *process) waitReady(ctx context.Context, began time.Time) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("serve exited before it was ready (%v): %s", p.waitErr, p.tail())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/readyz", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.Ready = time.Since(began)
				return nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("serve not ready within %s: %s", readyTimeout, p.tail())
}

// startInProcess runs the server in this process, for a CPU profile that
// covers the server (it covers the load generator too; its functions are
// easy to tell apart). Memory cannot be told apart, so it is not read.
func (r *runner) startInProcess(ctx context.Context, cfg config.Config) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg.Listen = addr
	r.seq++
	logPath := filepath.Join(r.cfg.TempDir, fmt.Sprintf("serve-%d.log", r.seq))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
	began := time.Now()
	a, err := app.New(cfg, logger, app.WithOutput(logFile))
	if err == nil {
		err = a.Start(ctx)
	}
	if err != nil {
		logFile.Close()
		return nil, err
	}
	p := &process{app: a, url: "http://" + a.Addr().String(), logPath: logPath, done: make(chan struct{})}
	r.cleanups = append(r.cleanups, func() { logFile.Close() })
	return p, p.waitReady(ctx, began)
}

// stop sends SIGTERM and waits for the process to exit.
func (p *process) stop() error {
	if p.app != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return p.app.Stop(ctx)
	}
	select {
	case <-p.done:
	default:
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return err
		}
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			return fmt.Errorf("%s did not stop within 30s after SIGTERM", p.cmd.Args[0])
		}
	}
	if p.waitErr != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(p.cmd.Args[1:2], ""), p.waitErr, p.tail())
	}
	return nil
}

// wait waits for a process that ends by itself (replay).
func (p *process) wait(ctx context.Context) error {
	tick := time.NewTicker(hwmPoll)
	defer tick.Stop()
	for waiting := true; waiting; {
		_, hwm := p.memory()
		p.hwm = max(p.hwm, hwm)
		select {
		case <-p.done:
			waiting = false
		case <-ctx.Done():
			return errors.Join(ctx.Err(), p.stop())
		case <-tick.C:
		}
	}
	if p.waitErr != nil {
		return fmt.Errorf("%w: %s", p.waitErr, p.tail())
	}
	return nil
}

// peakRSS is the largest resident set of a process wait saw exit (MB): its
// VmHWM as last read before the exit. The child's rusage cannot say: a
// child started with vfork and exec reports the parent's peak as its own
// when the parent's was larger.
func (p *process) peakRSS() float64 { return p.hwm }

// memory reads the resident set and its peak of a running process (MB)
// from /proc; zeros where /proc is missing.
func (p *process) memory() (rss, hwm float64) {
	if p.cmd == nil {
		return 0, 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		kib, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss = kib * 1024 / 1e6
		case "VmHWM:":
			hwm = kib * 1024 / 1e6
		}
	}
	return rss, hwm
}

// tail is the end of the process's log, for error messages.
func (p *process) tail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
