package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/config"
)

func TestMixSequence(t *testing.T) {
	seq := DefaultMix.sequence()
	if len(seq) != 100 || seq[0] != kindInteraction {
		t.Fatalf("sequence of %d, first %q", len(seq), seq[0])
	}
	count := map[string]int{}
	balance := 0
	for _, k := range seq {
		count[k]++
		switch k {
		case kindInteraction:
			balance += 10
		case kindDonation, kindRedemption:
			balance--
		}
		if balance < 0 {
			t.Fatalf("a donation or redemption would overdraw: %v", seq)
		}
	}
	want := map[string]int{kindInteraction: 50, kindDonation: 30, kindRedemption: 10, kindSignUp: 10}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s: %d of 100, want %d", k, count[k], n)
		}
	}
	// Every stretch of 20 holds about the mix's share of interactions.
	for i := 0; i+20 <= len(seq); i += 20 {
		n := 0
		for _, k := range seq[i : i+20] {
			if k == kindInteraction {
				n++
			}
		}
		if n < 9 || n > 11 {
			t.Errorf("slots %d-%d hold %d interactions", i, i+20, n)
		}
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	l := summarize(ds)
	if l.Count != 100 || l.P50 != 50 || l.P99 != 99 || l.Max != 100 {
		t.Fatalf("%+v", l)
	}
	if got := summarize(nil); got != (Latency{}) {
		t.Fatalf("empty: %+v", got)
	}
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Fatalf("median %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Fatalf("median %v", m)
	}
}

// The server a benchmark starts gets the settings it was asked for, and
// only those.
func TestConfigArgsCarryHashConcurrency(t *testing.T) {
	args := strings.Join(configArgs(config.Config{DataDir: "d", HashConcurrency: 3}), " ")
	if !strings.Contains(args, "--hash-concurrency 3") {
		t.Errorf("args %q lack --hash-concurrency 3", args)
	}
	if args := strings.Join(configArgs(config.Config{DataDir: "d"}), " "); strings.Contains(args, "--hash-concurrency") {
		t.Errorf("args %q set the hash concurrency though it was not asked for", args)
	}
}

func TestValidate(t *testing.T) {
	ok := Config{}.WithDefaults()
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]Config{
		"mix":        {Mix: Mix{Interactions: 90}},
		"clients":    {Clients: []int{0}},
		"lag":        {LagLoads: []float64{1.5}},
		"size":       {Sizes: []int{10}},
		"postgres":   {DatabaseURL: "postgres://x"},
		"url":        {URL: "http://127.0.0.1:1"},
		"hashes":     {HashConcurrency: -1},
		"url hashes": {URL: "http://127.0.0.1:1", StaffEmail: "s@example.org", StaffPassword: "x", HashConcurrency: 2},
	} {
		if err := c.WithDefaults().Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
