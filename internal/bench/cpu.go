package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc's CPU times (USER_HZ): 100 per second on
// every architecture Go runs Linux on, whatever the kernel's own tick rate.
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
	machine, err := MachineBusy()
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
	path := fmt.Sprintf("/proc/%d/stat", pid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	d, err := parseProcessStat(string(b))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// parseProcessStat is utime + stime of a /proc/PID/stat line.
func parseProcessStat(s string) (time.Duration, error) {
	// The command name (field 2) may hold spaces and parentheses; the
	// fields after its closing parenthesis are plain numbers.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name")
	}
	f := strings.Fields(s[i+1:])
	// utime and stime are fields 14 and 15; f starts at field 3.
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields", len(f)+2)
	}
	return ticks(f[11], f[12])
}

// MachineBusy is every core's busy time from /proc/stat (Linux): what the
// machine spent working, whichever process it worked for.
func MachineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	d, err := parseMachineStat(string(b))
	if err != nil {
		return 0, fmt.Errorf("/proc/stat: %w", err)
	}
	return d, nil
}

// parseMachineStat is the busy time on the first line of /proc/stat: user,
// nice, system, irq and softirq. Idle and iowait are not work, and steal
// is time the hypervisor gave to other machines, which would charge a
// neighbour's load to our commands.
func parseMachineStat(s string) (time.Duration, error) {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("unexpected first line %q", line)
	}
	return ticks(f[1], f[2], f[3], f[6], f[7])
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

// settle waits, at most limit, until the server uses less than a tenth of
// a core over a 100 ms window. The relay and the read models finish a
// round's commands after its last response: that work is the round's, and
// left running it would be charged to the raw round that follows. Without
// a server process of ours there is nothing to watch.
func settle(ctx context.Context, p *process, limit time.Duration) {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return
	}
	const window = 100 * time.Millisecond
	last, err := processCPU(p.cmd.Process.Pid)
	if err != nil {
		return
	}
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return
		case <-time.After(window):
		}
		now, err := processCPU(p.cmd.Process.Pid)
		if err != nil || now-last < window/10 {
			return
		}
		last = now
	}
}
