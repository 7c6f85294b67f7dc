package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluepoint/bluepoint/internal/bench"
)

// TestMain lets the test binary stand in for bluepoint: bench starts
// `serve` and `replay` as children of its own executable, which in a test
// is this binary. go test always passes flags (-test.*) first, so a first
// argument that is not a flag is a command for the child to run.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		os.Exit(Program{Stdout: os.Stdout, Stderr: os.Stderr}.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestBenchEndToEnd runs every workload, tiny, on the embedded default and
// checks that the report has every section with numbers that make sense.
func TestBenchEndToEnd(t *testing.T) {
	clearEnv(t)
	out := filepath.Join(t.TempDir(), "report.json")
	code, stdout, stderr := run(t, "bench", "--duration", "500ms", "--clients", "1,4", "--pairs", "1",
		"--sizes", "2000", "--query-runs", "20", "--lag-loads", "0.5", "--hash-concurrency", "1", "--out", out)
	if code != ExitOK {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, section := range []string{"1. commands", "2. lag", "3. event log", "4. rebuild", "5. memory", "6. cold start"} {
		if !strings.Contains(stdout, section) {
			t.Errorf("the table has no %q section:\n%s", section, stdout)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.HashConcurrency != 1 || !strings.Contains(stdout, "hash concurrency 1") {
		t.Errorf("the report says hash concurrency %d, want the 1 asked for", rep.HashConcurrency)
	}
	if rep.Backend != "embedded" || len(rep.Commands) != 2 {
		t.Fatalf("backend %q, %d command levels: %s", rep.Backend, len(rep.Commands), b)
	}
	for _, l := range rep.Commands {
		if l.Throughput <= 0 || l.RawThroughput <= 0 || l.Ratio <= 0 || l.P50 <= 0 || l.P99 < l.P50 {
			t.Errorf("commands at %d clients: %+v", l.Clients, l)
		}
		for _, kind := range []string{"interaction", "donation"} {
			if l.ByKind[kind].Count == 0 {
				t.Errorf("commands at %d clients ran no %s", l.Clients, kind)
			}
		}
	}
	if len(rep.Lag) != 1 || rep.Lag[0].Count == 0 || rep.Lag[0].P50 <= 0 || rep.Lag[0].P99 < rep.Lag[0].P50 {
		t.Errorf("lag: %+v", rep.Lag)
	}
	if len(rep.EventLog) != 1 || rep.EventLog[0].Events != 2000 || len(rep.EventLog[0].Queries) == 0 {
		t.Fatalf("event log: %+v", rep.EventLog)
	}
	for _, q := range rep.EventLog[0].Queries {
		if q.Count == 0 || q.P50 <= 0 || q.P99 < q.P50 {
			t.Errorf("query %s: %+v", q.Name, q)
		}
	}
	if len(rep.Rebuild) != 1 || len(rep.Rebuild[0].Projections) != 3 || rep.Rebuild[0].PeakRSS <= 0 {
		t.Fatalf("rebuild: %+v", rep.Rebuild)
	}
	for _, p := range rep.Rebuild[0].Projections {
		if p.EventsPerSec <= 0 {
			t.Errorf("rebuild %s: %+v", p.Name, p)
		}
	}
	if m := rep.Memory; m == nil || m.Idle <= 0 || m.Load < m.Idle || m.Rebuild <= 0 {
		t.Errorf("memory: %+v", rep.Memory)
	}
	if len(rep.ColdStart) != 2 || rep.ColdStart[0].Events != 0 || rep.ColdStart[1].Events != 2000 {
		t.Fatalf("cold start: %+v", rep.ColdStart)
	}
	for _, c := range rep.ColdStart {
		if c.Ms <= 0 || c.RSS <= 0 {
			t.Errorf("cold start: %+v", c)
		}
	}
}

func TestBenchUsage(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{
		{"bench", "--mix", "50,50"},
		{"bench", "--mix", "50,30,10,20"},
		{"bench", "--clients", "0"},
		{"bench", "--database-url", "postgres://127.0.0.1/x"},
		{"bench", "--url", "http://127.0.0.1:1"},
		{"bench", "--hash-concurrency", "-1"},
	} {
		if code, _, stderr := run(t, args...); code != ExitUsage {
			t.Errorf("%v: exit code %d, want %d; %s", args, code, ExitUsage, stderr)
		}
	}
}
