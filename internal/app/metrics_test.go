package app

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/service"
)

// scrape reads /metrics: each sample by name, then by its projection label
// ("" when it has none).
func scrape(t *testing.T, a *App) map[string]map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + a.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for name, f := range families {
		out[name] = map[string]float64{}
		for _, m := range f.GetMetric() {
			label := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "projection" {
					label = l.GetValue()
				}
			}
			out[name][label] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return out
}

// /metrics counts the store's group commit and shows each projection's
// lag, down to none once a command's events are applied.
func TestMetricsShowGroupCommitAndLag(t *testing.T) {
	a, err := New(sqliteConfig(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer a.Stop(t.Context())
	before := scrape(t, a)
	if _, err := a.service.OpenAccount(t.Context(), service.Call{}, service.OpenAccount{
		Kind: account.Civilian, Name: "Ana", Email: "ana@example.org", Password: "long enough pw"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := scrape(t, a)
		writes := m["bluepoint_store_group_writes_total"][""] - before["bluepoint_store_group_writes_total"][""]
		groups := m["bluepoint_store_groups_total"][""] - before["bluepoint_store_groups_total"][""]
		if writes < 1 || groups < 1 || groups > writes {
			t.Fatalf("after a sign-up: %v more writes in %v more groups", writes, groups)
		}
		lag := m["bluepoint_projection_lag_events"]
		for _, name := range []string{"users", "features", "eventlog"} {
			if _, ok := lag[name]; !ok {
				t.Fatalf("no lag for projection %s: %v", name, lag)
			}
		}
		caughtUp := true
		for _, n := range lag {
			caughtUp = caughtUp && n == 0
		}
		if caughtUp {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("projections still behind: %v", lag)
		}
		time.Sleep(25 * time.Millisecond) // polling with a deadline
	}
}
