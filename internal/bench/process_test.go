package bench

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// touchEnv makes the test binary a child that holds this many MiB, then
// exits.
const touchEnv = "BENCH_TEST_TOUCH_MIB"

func TestMain(m *testing.M) {
	if mib, err := strconv.Atoi(os.Getenv(touchEnv)); err == nil {
		b := touch(mib)
		time.Sleep(200 * time.Millisecond)
		runtime.KeepAlive(b)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func touch(mib int) []byte {
	b := make([]byte, mib<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

// The peak reported for a child is its own, even when the process that
// started it holds far more (the rebuild workload's replays start from a
// bench process that has just generated a large store).
func TestPeakRSSIsTheChilds(t *testing.T) {
	parent := touch(400)
	r := &runner{cfg: Config{TempDir: t.TempDir(), Command: func(ctx context.Context, _ ...string) *exec.Cmd {
		c := exec.CommandContext(ctx, os.Args[0], "-test.run", "^$")
		c.Env = []string{touchEnv + "=64"}
		return c
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := r.spawn(ctx, "child")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := p.peakRSS(); got < 64 || got > 250 {
		t.Fatalf("the child's peak: %.1f MB; it held 64 MiB, its parent 400", got)
	}
	runtime.KeepAlive(parent)
}
