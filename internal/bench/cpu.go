package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc's CPU times (USER_HZ). Linux fixes it at
// 100 on every architecture it exposes to user space, whatever the
// kernel's own tick rate.
const clockTick = 10 * time.Millisecond

// cpuSample is CPU time used so far: by the server process (zero when it
// runs in this process or is not ours) and by the whole machine (every
// core's busy time: the server, the engines beneath it and the load
// generator alike).
type cpuSample struct {
	server, machine time.Duration
	ok              bool
}

// sampleCPU reads both times from /proc; ok is false where /proc is
// missing, and the run then reports no CPU figures.
func sampleCPU(p *process) cpuSample {
	machine, err := machineBusy()
	if err != nil {
		return cpuSample{}
	}
	s := cpuSample{machine: machine, ok: true}
	if p != nil && p.cmd != nil && p.cmd.Process != nil {
		s.server, _ = processCPU(p.cmd.Process.Pid)
	}
	return s
}

// perCommand is the CPU milliseconds per command between two samples.
func perCommand(before, after cpuSample, commands int) (server, machine float64) {
	if !before.ok || !after.ok || commands == 0 {
		return 0, 0
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(commands) }
	return ms(after.server - before.server), ms(after.machine - before.machine)
}

// processCPU is a process's user and system time from /proc/PID/stat.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses; the
	// fields after its closing parenthesis are plain numbers.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// utime and stime are fields 14 and 15; f starts at field 3.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	return ticks(f[11], f[12])
}

// machineBusy is every core's non-idle time from /proc/stat: user, nice,
// system, irq, softirq and steal, not idle or iowait.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	return ticks(f[1], f[2], f[3], f[6], f[7], f[8])
}

func ticks(fields ...string) (time.Duration, error) {
	var sum int64
	for _, s := range fields {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu time %q: %w", s, err)
		}
		sum += n
	}
	return time.Duration(sum) * clockTick, nil
}
