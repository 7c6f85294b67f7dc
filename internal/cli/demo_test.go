package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/demo"
)

// bluepoint demo loads a (small) demo with a progress count on stderr and
// the logins on stdout; a second run prints the same logins and loads
// nothing.
func TestDemoCommand(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	args := []string{"demo", "--data-dir", dir, "--accounts", "20", "--transactions", "120"}
	code, out, errOut := run(t, args...)
	if code != ExitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "loading demo data: 140/140\n") {
		t.Errorf("stderr = %q, want the progress count to end at 140/140", errOut)
	}
	for _, want := range []string{"Loaded the demo data: 20 accounts", "120 transactions", `password "` + demo.Password + `"`,
		"staff@" + demo.EmailDomain, "civilian@", "officer@", "merchant@", "charity@", "family@"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout does not mention %q:\n%s", want, out)
		}
	}

	code, again, errOut := run(t, args...)
	if code != ExitOK {
		t.Fatalf("second run: exit code %d; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(again, "already loaded") {
		t.Errorf("second run's stdout = %q, want it to say the demo is there", again)
	}
	if logins(again) != logins(out) {
		t.Errorf("second run's logins differ:\n%s\nfirst:\n%s", logins(again), logins(out))
	}
}

// logins returns the table of logins of demo's output.
func logins(out string) string {
	i := strings.Index(out, "  KIND")
	if i < 0 {
		return ""
	}
	return out[i:]
}

// The flags' defaults are the demo's full size.
func TestDemoDefaults(t *testing.T) {
	clearEnv(t)
	var cl commandLine
	parser, err := Program{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}.parser(&cl)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse([]string{"demo"}); err != nil {
		t.Fatal(err)
	}
	if cl.Demo.Accounts != demo.DefaultAccounts || cl.Demo.Transactions != demo.DefaultTransactions {
		t.Errorf("demo defaults to %d accounts and %d transactions, want %d and %d",
			cl.Demo.Accounts, cl.Demo.Transactions, demo.DefaultAccounts, demo.DefaultTransactions)
	}
}

// serve --demo starts loading the demo once listening; a shutdown during
// the load ends serve cleanly, and the next serve --demo refuses the half
// loaded store instead of adding to it.
func TestServeDemoInterrupted(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Program{Stdout: &bytes.Buffer{}, Stderr: &stderr}.Run(ctx,
			[]string{"serve", "--demo", "--data-dir", dir, "--listen", "127.0.0.1:0"})
	}()
	waitForListenAddr(t, &stderr, done)
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(stderr.String(), `"msg":"loading demo data"`) {
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before loading; log:\n%s", code, stderr.String())
		case <-deadline:
			t.Fatalf("no progress logged within 30s; log:\n%s", stderr.String())
		case <-tick.C:
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("exit code %d, want 0; log:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop during the demo load")
	}
	if !strings.Contains(stderr.String(), "demo load interrupted") {
		t.Errorf("log does not record the interrupted load:\n%s", stderr.String())
	}

	code, _, errOut := run(t, "serve", "--demo", "--data-dir", dir, "--listen", "127.0.0.1:0")
	if code != ExitFailure || !strings.Contains(errOut, "did not finish") {
		t.Errorf("serve --demo on a half loaded store: exit code %d, log:\n%s", code, errOut)
	}
}
