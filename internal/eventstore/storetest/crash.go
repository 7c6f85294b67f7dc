package storetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// crashEnv carries the store location to the child process.
const crashEnv = "BLUEPOINT_CRASH_CHILD"

// CrashChild is called from a driver's TestMain. When the process was started
// by RunCrash, it opens the store at the location passed down, appends from
// several goroutines and prints "ack <event id>" after each acknowledged
// append, until it is killed. It reports whether it ran (and the caller
// should exit).
func CrashChild(open func(location string) (eventstore.Store, error)) bool {
	location := os.Getenv(crashEnv)
	if location == "" {
		return false
	}
	s, err := open(location)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child: open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	for w := 0; w < 8; w++ {
		go func() {
			for i := 0; ; i++ {
				e := eventstore.EventData{ID: uuid.Must(uuid.NewV7()), Type: "Crash", Data: json.RawMessage(`{"i":1}`)}
				_, err := s.Append(context.Background(), &eventstore.AppendParams{Streams: []eventstore.StreamAppend{
					{StreamID: eventstore.StreamID("account", uuid.NewString()), Expected: eventstore.NoStream, Events: []eventstore.EventData{e}}}})
				if err != nil {
					fmt.Fprintln(os.Stderr, "crash child: append:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintln(out, "ack", e.ID)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	select {} // until killed
}

// RunCrash starts the test binary as a crash child on location, kills it
// with SIGKILL once it acknowledged enough appends, then checks with reopen
// that every acknowledged event is in the store.
func RunCrash(t *testing.T, location string, reopen func(t *testing.T) eventstore.Store) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+location)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[uuid.UUID]bool{}
	sc := bufio.NewScanner(stdout)
	deadline := time.Now().Add(60 * time.Second)
	for len(acked) < 500 && time.Now().Before(deadline) && sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			acked[uuid.MustParse(id)] = true
		}
	}
	// Kill mid-flight: appends are in progress when the process dies.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() { // acks printed before the kill landed count too
		if id, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			acked[uuid.MustParse(id)] = true
		}
	}
	_ = cmd.Wait()
	if len(acked) < 100 {
		t.Fatalf("the child acknowledged only %d appends before the deadline", len(acked))
	}
	s := reopen(t)
	found := 0
	for _, e := range readAll(t, s, eventstore.ReadAllParams{}) {
		if acked[e.ID] {
			found++
		}
	}
	if found != len(acked) {
		t.Fatalf("%d of %d acknowledged events survived kill -9", found, len(acked))
	}
	t.Logf("all %d acknowledged events survived kill -9", len(acked))
}
