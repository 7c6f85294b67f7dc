package webhooktest_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/webhook"
	"github.com/bluepoint/bluepoint/internal/webhook/webhooktest"
)

var secret = []byte("s")

func TestWaitForWakesOnDelivery(t *testing.T) {
	rcv := webhooktest.New(t, secret)
	rcv.FailFirst(2, http.StatusBadGateway)
	s := &webhook.Sender{Secret: secret}
	var wg sync.WaitGroup
	wg.Go(func() {
		for attempt := 1; attempt <= 3; attempt++ {
			if _, err := s.Send(t.Context(), rcv.URL(), "ev-9", attempt, []byte(`{}`)); err == nil {
				return
			}
		}
	})
	got := rcv.WaitFor(t, 1, 5*time.Second)
	wg.Wait()
	if len(got) != 1 || got[0].Attempt != 3 || got[0].EventID != "ev-9" {
		t.Fatalf("deliveries = %+v, want ev-9 accepted on attempt 3", got)
	}
	if n := len(rcv.Calls()); n != 3 {
		t.Fatalf("calls = %d, want 3", n)
	}
}

// fakeTB records a fatal failure instead of stopping the test, to check
// WaitFor's timeout path.
type fakeTB struct {
	testing.TB
	msg string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

func TestWaitForTimesOut(t *testing.T) {
	rcv := webhooktest.New(t, secret)
	// A rejected call is recorded but does not count as a delivery.
	_, _ = (&webhook.Sender{Secret: []byte("other")}).Send(t.Context(), rcv.URL(), "ev-1", 1, []byte(`{}`))
	tb := &fakeTB{TB: t}
	start := time.Now()
	if got := rcv.WaitFor(tb, 1, 50*time.Millisecond); got != nil {
		t.Fatalf("WaitFor returned %+v", got)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("WaitFor gave up before its timeout")
	}
	if !strings.Contains(tb.msg, "0 of 1") || !strings.Contains(tb.msg, "ev-1#1=401") {
		t.Fatalf("failure message = %q", tb.msg)
	}
}
