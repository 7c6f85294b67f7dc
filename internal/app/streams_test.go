package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/archive"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/sinkconfig"
)

// A command travels the whole way: appended with its outbox row, relayed to
// the embedded stream engine, archived by the sink bluepoint.yaml declares,
// and every step is in its trace.
func TestCommandReachesTheArchive(t *testing.T) {
	cfg := sqliteConfig(t)
	archiveDir := filepath.Join(t.TempDir(), "archive")
	cfg.SinksFile = filepath.Join(t.TempDir(), "bluepoint.yaml")
	yaml := fmt.Sprintf(`version: 1
sinks:
  - name: lake
    type: archive
    url: file://%s
    batch: {max_events: 5, max_age: 100ms}
automations:
  - name: welcome
    on: [AccountOpened]
    condition: 'event.data.kind == "civilian"'
    action:
      command: {name: GrantBonus, args: {account: '{{ event.data.account_id }}', points: 5, reason: welcome}}
`, archiveDir)
	if err := os.WriteFile(cfg.SinksFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	if _, err := os.Stat(cfg.NATSStoreDir()); err != nil {
		t.Fatalf("the embedded stream engine keeps no store under the data dir: %v", err)
	}
	out, err := a.service.OpenAccount(t.Context(), service.Call{TraceID: "tr-e2e"}, service.OpenAccount{
		Kind: account.Civilian, Name: "Ana", Email: "ana@example.org", Password: "long enough pw"})
	if err != nil {
		t.Fatal(err)
	}
	ana := accountID(out.Result.Body)
	bucket, err := archive.Open(t.Context(), "file://"+archiveDir)
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	want := []string{"command.OpenAccount applied", "relay published", "sink.lake delivered",
		"command.GrantBonus applied", "automation.welcome applied", "projection.users applied"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		rep, err := archive.Verify(t.Context(), bucket, a.store, archive.VerifyOptions{})
		st, _ := a.service.Account(t.Context(), ana)
		// The first staff account, Ana, and her welcome bonus; each part
		// records its trace step after its own work, so poll for those too.
		got := traceOf(t, a, "tr-e2e")
		complete := true
		for _, w := range want {
			complete = complete && slices.Contains(got, w)
		}
		if err == nil && rep.OK() && rep.StoreEvents >= 3 && st.Balance == 5 && complete {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never complete: archive %+v %v, balance %d, trace %v (want %v)", rep, err, st.Balance, got, want)
		}
		time.Sleep(25 * time.Millisecond) // polling with a deadline
	}
}

// The example bluepoint.yaml names only commands automations can run.
func TestExampleConfigNamesRealCommands(t *testing.T) {
	f, err := sinkconfig.Load(filepath.Join("..", "..", "bluepoint.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range f.Automations {
		if c := a.Action.Command; c != nil && !slices.Contains(service.CommandNames(), c.Name) {
			t.Errorf("automation %s runs %q; automations may run %v", a.Name, c.Name, service.CommandNames())
		}
	}
}

func traceOf(t *testing.T, a *App, traceID string) []string {
	steps, err := a.store.TraceSteps(t.Context(), traceID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range steps {
		got = append(got, st.Step+" "+st.Status)
	}
	return got
}
