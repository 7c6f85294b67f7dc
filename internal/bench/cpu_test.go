package bench

import (
	"os"
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
	if before.machine, err = machineBusy(); err != nil {
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
	if after.machine, err = machineBusy(); err != nil {
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
