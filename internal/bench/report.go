package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a run measured. Latencies are in milliseconds, rates per
// second, memory in MB (10^6 bytes); the JSON form is what --out writes.
type Report struct {
	Backend   string    `json:"backend"`
	Started   time.Time `json:"started"`
	Elapsed   string    `json:"elapsed"`
	Cores     int       `json:"cores"`
	GoVersion string    `json:"go_version"`
	Duration  string    `json:"round_duration"`
	Pairs     int       `json:"pairs"`
	Mix       Mix       `json:"mix"`
	// HashConcurrency is the server's --hash-concurrency (0: its default).
	HashConcurrency int `json:"hash_concurrency,omitempty"`

	Commands  []CommandLevel `json:"commands"`
	Lag       []LagLevel     `json:"lag"`
	EventLog  []QuerySet     `json:"event_log"`
	Rebuild   []RebuildSet   `json:"rebuild"`
	Memory    *Memory        `json:"memory,omitempty"`
	ColdStart []ColdStart    `json:"cold_start"`
}

// CommandLevel is workload 1 at one concurrency: the medians of its rounds.
type CommandLevel struct {
	Clients int `json:"clients"`
	// Throughput is Bluepoint's commands per second (median of the rounds).
	Throughput float64 `json:"throughput"`
	// RawThroughput is the raw-SQL baseline's transactions per second
	// (median), 0 when there is none (a run against a URL).
	RawThroughput float64 `json:"raw_throughput,omitempty"`
	// Ratio is the median of the per-pair Bluepoint/raw ratios.
	Ratio float64 `json:"ratio,omitempty"`
	// CPU is the median CPU time per command and per raw transaction.
	CPU    CPU                `json:"cpu_ms"`
	P50    float64            `json:"p50_ms"`
	P99    float64            `json:"p99_ms"`
	Errors int                `json:"errors"`
	ByKind map[string]Latency `json:"by_kind"`
	Rounds []Round            `json:"rounds"`
}

// Round is one interleaved raw/Bluepoint pair.
type Round struct {
	Raw       float64 `json:"raw_throughput,omitempty"`
	Bluepoint float64 `json:"throughput"`
	Ratio     float64 `json:"ratio,omitempty"`
	Commands  int     `json:"commands"`
	CPU       CPU     `json:"cpu_ms"`
}

// CPU is CPU time in milliseconds per command (per transaction for the raw
// baseline), read from /proc before each round and after it once the
// server has settled (its relay and read models done with the round);
// zeros where it could not be read. Unlike throughput, it barely moves
// with what else the machine is doing, so it compares two builds well.
type CPU struct {
	// Server is the serve process alone (with the embedded default, that
	// includes the stream engine); zero when serve runs in the bench
	// process or elsewhere (--url, --cpuprofile).
	Server float64 `json:"server,omitempty"`
	// Machine is every core's busy time on the machine bench runs on
	// (steal excluded): serve, the database and stream servers, and the
	// load generator; with --url, only what of that runs here.
	Machine float64 `json:"machine,omitempty"`
	// RawMachine is Machine for the raw baseline's transactions.
	RawMachine float64 `json:"raw_machine,omitempty"`
}

// Latency summarises a set of timings.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// LagLevel is workload 2 at one offered load.
type LagLevel struct {
	Fraction float64 `json:"fraction"`
	// Offered and Achieved are commands per second.
	Offered  float64 `json:"offered"`
	Achieved float64 `json:"achieved"`
	Latency
}

// QuerySet is workload 3 on one data set.
type QuerySet struct {
	Events      int            `json:"events"`
	LoadSeconds float64        `json:"load_seconds"`
	Queries     []QueryLatency `json:"queries"`
}

// QueryLatency is one query's timings.
type QueryLatency struct {
	Name string `json:"name"`
	Latency
}

// RebuildSet is workload 4 on one data set.
type RebuildSet struct {
	Events      int              `json:"events"`
	LoadSeconds float64          `json:"load_seconds"`
	Projections []RebuildLatency `json:"projections"`
	// PeakRSS is the largest resident set of a `replay` process (MB).
	PeakRSS float64 `json:"peak_rss_mb"`
}

// RebuildLatency is one projection's rebuild.
type RebuildLatency struct {
	Name         string  `json:"name"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_s"`
}

// Memory is workload 5 (MB).
type Memory struct {
	// Idle is the resident set of a started server with the bench's
	// accounts, before any load.
	Idle float64 `json:"idle_rss_mb"`
	// Load is the server's peak resident set (VmHWM) after workload 1.
	Load float64 `json:"load_peak_rss_mb"`
	// Rebuild is the peak resident set of a `replay` process rebuilding
	// the largest data set.
	Rebuild float64 `json:"rebuild_peak_rss_mb"`
}

// ColdStart is workload 6 on one store.
type ColdStart struct {
	Events int     `json:"events"`
	Ms     float64 `json:"ms"`
	// RSS is the resident set two seconds after /readyz answered (MB).
	RSS float64 `json:"rss_mb"`
}

// WriteJSON writes the report, indented.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as tables for a person.
func (r *Report) WriteTable(w io.Writer) error {
	hashes := "default"
	if r.HashConcurrency > 0 {
		hashes = strconv.Itoa(r.HashConcurrency)
	}
	fmt.Fprintf(w, "backend %s, %d cores, %s, rounds of %s, %d pairs, mix %d/%d/%d/%d (interaction/donation/redemption/sign-up), hash concurrency %s, elapsed %s\n\n",
		r.Backend, r.Cores, r.GoVersion, r.Duration, r.Pairs, r.Mix.Interactions, r.Mix.Donations, r.Mix.Redemptions, r.Mix.SignUps, hashes, r.Elapsed)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "1. commands\tclients\tcommands/s\traw txn/s\tratio\tp50 ms\tp99 ms\terrors\tratios\tcpu ms: serve\tmachine\traw\t")
	for _, l := range r.Commands {
		var ratios []string
		for _, rd := range l.Rounds {
			ratios = append(ratios, num(rd.Ratio))
		}
		fmt.Fprintf(tw, "\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t\n", l.Clients, num(l.Throughput), num(l.RawThroughput),
			num(l.Ratio), num(l.P50), num(l.P99), l.Errors, strings.Join(ratios, " "),
			num(l.CPU.Server), num(l.CPU.Machine), num(l.CPU.RawMachine))
	}
	if len(r.Commands) > 0 {
		fmt.Fprintln(tw, "\t")
		fmt.Fprintln(tw, "   by kind\tclients\tkind\tcount\tp50 ms\tp99 ms\t")
		for _, l := range r.Commands {
			for _, k := range slices.Sorted(maps.Keys(l.ByKind)) {
				v := l.ByKind[k]
				fmt.Fprintf(tw, "\t%d\t%s\t%d\t%s\t%s\t\n", l.Clients, k, v.Count, num(v.P50), num(v.P99))
			}
		}
	}
	fmt.Fprintln(tw, "\t")
	fmt.Fprintln(tw, "2. lag to read model\tload\toffered/s\tachieved/s\tprobes\tp50 ms\tp99 ms\t")
	for _, l := range r.Lag {
		fmt.Fprintf(tw, "\t%.0f%%\t%s\t%s\t%d\t%s\t%s\t\n", 100*l.Fraction, num(l.Offered), num(l.Achieved), l.Count, num(l.P50), num(l.P99))
	}
	fmt.Fprintln(tw, "\t")
	fmt.Fprintln(tw, "3. event log\tevents\tquery\truns\tp50 ms\tp99 ms\t")
	for _, s := range r.EventLog {
		for _, q := range s.Queries {
			fmt.Fprintf(tw, "\t%d\t%s\t%d\t%s\t%s\t\n", s.Events, q.Name, q.Count, num(q.P50), num(q.P99))
		}
	}
	fmt.Fprintln(tw, "\t")
	fmt.Fprintln(tw, "4. rebuild\tevents\tprojection\tseconds\tevents/s\t")
	for _, s := range r.Rebuild {
		for _, p := range s.Projections {
			fmt.Fprintf(tw, "\t%d\t%s\t%s\t%s\t\n", s.Events, p.Name, num(p.Seconds), num(p.EventsPerSec))
		}
	}
	if m := r.Memory; m != nil {
		fmt.Fprintln(tw, "\t")
		fmt.Fprintln(tw, "5. memory\tidle MB\tunder load MB\trebuild MB\t")
		fmt.Fprintf(tw, "\t%s\t%s\t%s\t\n", num(m.Idle), num(m.Load), num(m.Rebuild))
	}
	fmt.Fprintln(tw, "\t")
	fmt.Fprintln(tw, "6. cold start\tevents\tto /readyz ms\tRSS MB\t")
	for _, c := range r.ColdStart {
		fmt.Fprintf(tw, "\t%d\t%s\t%s\t\n", c.Events, num(c.Ms), num(c.RSS))
	}
	return tw.Flush()
}

// num prints a figure with a sensible number of digits.
func num(v float64) string {
	switch {
	case v == 0:
		return "-"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// summarize computes the percentiles of ds (which it sorts).
func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	return Latency{Count: len(ds), P50: ms(quantile(ds, 0.50)), P99: ms(quantile(ds, 0.99)), Max: ms(ds[len(ds)-1])}
}

// quantile is the nearest-rank quantile of sorted ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// median of xs (which it sorts); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}
