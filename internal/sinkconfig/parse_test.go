package sinkconfig

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// problems returns every *Problem in err, in order.
func problems(t *testing.T, err error) []*Problem {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	out := make([]*Problem, 0, len(errs))
	for _, e := range errs {
		var p *Problem
		if !errors.As(e, &p) {
			t.Fatalf("error %v (%T) is not a *Problem", e, e)
		}
		out = append(out, p)
	}
	return out
}

func TestExampleFileLoads(t *testing.T) {
	f, err := Load(filepath.Join("..", "..", "bluepoint.example.yaml"))
	if err != nil {
		t.Fatalf("Load example: %v", err)
	}
	if len(f.Sinks) != 2 || len(f.Automations) != 2 {
		t.Fatalf("example: %d sinks, %d automations; want 2 and 2", len(f.Sinks), len(f.Automations))
	}
	a := f.Sinks[0]
	if a.Type != SinkArchive || a.Format != FormatNDJSON || a.URL != "file://./data/archive" ||
		a.Batch != (Batch{1000, 8 << 20, time.Minute}) || a.Types != nil {
		t.Errorf("archive sink = %+v", a)
	}
	w := f.Sinks[1]
	if w.SecretEnv != "BLUEPOINT_WEBHOOK_SECRET" || w.Timeout != 5*time.Second || w.MaxAttempts != 5 ||
		!reflect.DeepEqual(w.Streams, []string{"transactions"}) {
		t.Errorf("webhook sink = %+v", w)
	}
	cmd := f.Automations[0].Action.Command
	if cmd == nil || cmd.Name != "GrantBonus" {
		t.Fatalf("first automation's command = %+v", cmd)
	}
	wantArgs := map[string]Arg{
		"account": {Expr: "event.data.to"},
		"points":  {Value: int64(10)},
		"reason":  {Value: "generous donation"},
	}
	if !reflect.DeepEqual(cmd.Args, wantArgs) {
		t.Errorf("args = %#v, want %#v", cmd.Args, wantArgs)
	}
	if hook := f.Automations[1].Action.Webhook; hook == nil || hook.SecretEnv != "BLUEPOINT_NOTIFY_SECRET" {
		t.Errorf("second automation's webhook = %+v", hook)
	}
}

func TestDefaults(t *testing.T) {
	f, err := Parse("bluepoint.yaml", []byte(`version: 1
sinks:
  - {name: a, type: archive, url: "s3://bucket?region=eu-central-1"}
  - {name: w, type: webhook, url: "http://localhost:8080/x", secret_env: S}
automations:
  - name: auto
    on: [DonationMade]
    action: {webhook: {url: "https://x.example/", secret_env: S}}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := &File{Version: 1, name: "bluepoint.yaml",
		Sinks: []Sink{
			{Name: "a", Type: SinkArchive, Streams: AllStreams(), URL: "s3://bucket?region=eu-central-1",
				Format: FormatNDJSON, Batch: Batch{DefaultMaxEvents, DefaultMaxBytes, DefaultMaxAge}, Line: 3},
			{Name: "w", Type: SinkWebhook, Streams: AllStreams(), URL: "http://localhost:8080/x", SecretEnv: "S",
				Timeout: DefaultTimeout, MaxAttempts: DefaultMaxAttempts, Line: 4},
		},
		Automations: []Automation{{Name: "auto", On: []string{"DonationMade"}, MaxDepth: DefaultMaxDepth, Line: 6,
			Action: Action{Webhook: &WebhookAction{URL: "https://x.example/", SecretEnv: "S", Timeout: DefaultTimeout}}}},
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("got  %+v\nwant %+v", f, want)
	}
}

func TestEmptyFile(t *testing.T) {
	for _, data := range []string{"", "\n", "# nothing yet\n", "---\n"} {
		f, err := Parse("bluepoint.yaml", []byte(data))
		if err != nil {
			t.Fatalf("Parse(%q): %v", data, err)
		}
		if f.Version != Version || len(f.Sinks) != 0 || len(f.Automations) != 0 {
			t.Errorf("Parse(%q) = %+v, want an empty config", data, f)
		}
	}
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bluepoint.yaml")
	_, err := Load(path)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load(missing) = %v; want fs.ErrNotExist naming the file", err)
	}
	if err := os.WriteFile(path, []byte("version: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("Load: %v", err)
	}
}

func TestBytesAndDurations(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "4096": 4096, "'512'": 512, "1KiB": 1024, "8MiB": 8 << 20, "2 GiB": 2 << 30} {
		f, err := Parse("b.yaml", []byte("version: 1\nsinks:\n  - {name: a, type: archive, url: 'file:///x', batch: {max_bytes: "+in+", max_age: 1h30m}}\n"))
		if err != nil {
			t.Errorf("max_bytes %s: %v", in, err)
			continue
		}
		if got := f.Sinks[0].Batch; got.MaxBytes != want || got.MaxAge != 90*time.Minute {
			t.Errorf("max_bytes %s: %+v, want %d bytes and 1h30m", in, got, want)
		}
	}
}

func TestResolve(t *testing.T) {
	f, err := Load(filepath.Join("..", "..", "bluepoint.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BLUEPOINT_WEBHOOK_SECRET": "s3cret"}
	err = f.Resolve(func(k string) string { return env[k] })
	ps := problems(t, err)
	if len(ps) != 1 {
		t.Fatalf("Resolve = %v; want one problem", err)
	}
	msg := ps[0].Error()
	for _, want := range []string{"bluepoint.example.yaml:", "automations[1].action.webhook.secret_env", `"notify_redemption"`, "BLUEPOINT_NOTIFY_SECRET"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Resolve error %q lacks %q", msg, want)
		}
	}
	env["BLUEPOINT_NOTIFY_SECRET"] = "x"
	if err := f.Resolve(func(k string) string { return env[k] }); err != nil {
		t.Errorf("Resolve with every secret set: %v", err)
	}
	delete(env, "BLUEPOINT_WEBHOOK_SECRET")
	if err := f.Resolve(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), `sink "partner_hook"`) {
		t.Errorf("Resolve without the sink secret = %v", err)
	}
}
