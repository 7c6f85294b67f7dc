package bench

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

func TestCPUTimesCountWork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU times come from Linux's /proc")
	}
	self, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	before := cpuSample{server: self, ok: true}
	if before.machine, err = MachineBusy(); err != nil {
		t.Fatal(err)
	}
	// Spin on this goroutine's own clock time so the test process surely
	// uses that much CPU, however busy the machine is.
	const spin = 200 * time.Millisecond
	x := 0
	for began := time.Now(); time.Since(began) < spin; {
		x++
	}
	if x == 0 {
		t.Fatal("spun no loop")
	}
	after := cpuSample{ok: true}
	if after.server, err = processCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if after.machine, err = MachineBusy(); err != nil {
		t.Fatal(err)
	}
	server, machine := perCommand(before, after, 2)
	// Per command of 2: at least a quarter of the spin each, allowing for
	// the spinning thread being descheduled and the 10 ms tick.
	if floor := float64(spin/time.Millisecond) / 8; server < floor || machine < floor {
		t.Fatalf("per command: server %.1f ms, machine %.1f ms; want both >= %.1f", server, machine, floor)
	}
	if s, m := perCommand(before, after, 0); s != 0 || m != 0 {
		t.Fatalf("no commands: %v, %v; want zeros", s, m)
	}
	if _, err := processCPU(-1); err == nil {
		t.Fatal("a missing process has a CPU time")
	}
}

func TestCPUStatLinesParse(t *testing.T) {
	// A command name with a space and a closing parenthesis; utime 250 and
	// stime 130 ticks are fields 14 and 15.
	const proc = "4242 (blue point) R 1 4242 4242 0 -1 4194560 9000 0 0 0 250 130 0 0 20 0 12 0 100 1000000 5000"
	got, err := parseProcessStat(proc)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3800 * time.Millisecond; got != want {
		t.Fatalf("process stat: %v, want %v", got, want)
	}
	// user nice system idle iowait irq softirq steal: busy is
	// 100+2+30+4+5 ticks, not the idle 900, iowait 40 or steal 70.
	const machine = "cpu  100 2 30 900 40 4 5 70 0 0\ncpu0 50 1 15 450 20 2 2 35 0 0\n"
	if got, err = parseMachineStat(machine); err != nil {
		t.Fatal(err)
	}
	if want := 1410 * time.Millisecond; got != want {
		t.Fatalf("machine stat: %v, want %v", got, want)
	}
	for _, bad := range []string{"4242 R 1", "4242 (x) R 1 2 3"} {
		if _, err := parseProcessStat(bad); err == nil {
			t.Errorf("process stat %q parsed", bad)
		}
	}
	if _, err := parseMachineStat("intr 1 2 3\n"); err == nil {
		t.Error("a stat without its cpu line parsed")
	}
}

func TestSettleWaitsForABusyServer(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU times come from Linux's /proc")
	}
	start := func(script string) *process {
		cmd := exec.Command("sh", "-c", script)
		if err := cmd.Start(); err != nil {
			t.Skip("no shell:", err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return &process{cmd: cmd}
	}
	const limit = 600 * time.Millisecond
	began := time.Now()
	settle(context.Background(), start("sleep 30"), limit)
	if took := time.Since(began); took >= limit {
		t.Fatalf("an idle server took %v to settle", took)
	}
	began = time.Now()
	settle(context.Background(), start("while :; do :; done"), limit)
	if took := time.Since(began); took < limit {
		t.Fatalf("a spinning server settled after %v", took)
	}
	began = time.Now()
	settle(context.Background(), nil, limit)
	if took := time.Since(began); took >= limit/2 {
		t.Fatalf("no server took %v", took)
	}
}
