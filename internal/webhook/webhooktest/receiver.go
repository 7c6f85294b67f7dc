// Package webhooktest provides a webhook receiver for tests: an HTTP server
// that verifies Bluepoint signatures the way a real receiver should, can be
// told to fail its first calls, and records what it got.
//
// It lets the webhook sink, automations and the consumer runtime be tested
// end to end (signature, retries, attempt numbers, dead-lettering) without a
// hand-written handler in every test.
package webhooktest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/webhook"
)

// maxBody caps what the receiver reads of a request; events are far smaller.
const maxBody = 1 << 20

// Call is one request the receiver handled, accepted or not.
type Call struct {
	EventID string
	Attempt int // 0 if the header was missing or malformed
	Body    []byte
	Header  http.Header
	// Status is what the receiver answered.
	Status int
	// Err is the verification error, nil if the signature was valid.
	Err error
	// At is when the call arrived.
	At time.Time
}

// Accepted reports whether the receiver answered the call with a 2xx.
func (c Call) Accepted() bool { return c.Status >= 200 && c.Status < 300 }

// Receiver is a running test server. Create it with New; it is closed by the
// test's cleanup. All methods are safe for concurrent use.
type Receiver struct {
	srv     *httptest.Server
	secrets [][]byte

	mu        sync.Mutex
	calls     []Call
	failLeft  int
	failWith  int
	delay     time.Duration
	tolerance time.Duration
	changed   chan struct{} // closed and replaced on every recorded call
}

// New starts a receiver that accepts requests signed with any of secrets
// (several to test rotation) and answers 204. A request that fails
// verification is answered 401 and recorded with its error.
func New(t testing.TB, secrets ...[]byte) *Receiver {
	t.Helper()
	if len(secrets) == 0 {
		t.Fatal("webhooktest.New: at least one secret is required")
	}
	r := &Receiver{secrets: secrets, changed: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the address to deliver to.
func (r *Receiver) URL() string { return r.srv.URL }

// FailFirst makes the next n correctly signed calls answer status (for
// example 503) instead of 204, to exercise the sender's retries.
func (r *Receiver) FailFirst(n, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failLeft, r.failWith = n, status
}

// SetDelay makes every call wait d before answering (or until the client
// gives up), to exercise timeouts. Such a call is still recorded with the
// status it would have had, as a real receiver would have processed it: this
// is how duplicates arise under at-least-once delivery.
func (r *Receiver) SetDelay(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay = d
}

// SetTolerance changes how old a signature timestamp may be; zero means
// webhook.DefaultTolerance.
func (r *Receiver) SetTolerance(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tolerance = d
}

// Calls returns every call so far, in arrival order, rejected ones included.
func (r *Receiver) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Deliveries returns the accepted calls so far, in arrival order.
func (r *Receiver) Deliveries() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.acceptedLocked()
}

func (r *Receiver) acceptedLocked() []Call {
	var out []Call
	for _, c := range r.calls {
		if c.Accepted() {
			out = append(out, c)
		}
	}
	return out
}

// WaitFor blocks until at least n calls were accepted and returns them; it
// fails the test if that does not happen within timeout. It wakes on every
// recorded call instead of sleeping, so it returns as soon as the condition
// holds.
func (r *Receiver) WaitFor(t testing.TB, n int, timeout time.Duration) []Call {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		got := r.acceptedLocked()
		changed := r.changed
		total := len(r.calls)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("webhooktest: %d of %d deliveries accepted after %s (%d calls: %s)",
				len(got), n, timeout, total, r.summary())
			return nil
		}
	}
}

// summary lists the status of every call, for failure messages.
func (r *Receiver) summary() string {
	var b strings.Builder
	for i, c := range r.Calls() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s#%d=%d", c.EventID, c.Attempt, c.Status)
		if c.Err != nil {
			fmt.Fprintf(&b, " (%v)", c.Err)
		}
	}
	return b.String()
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBody))
	call := Call{
		EventID: req.Header.Get(webhook.HeaderEventID),
		Body:    body,
		Header:  req.Header.Clone(),
		At:      time.Now(),
	}
	call.Attempt, _ = strconv.Atoi(req.Header.Get(webhook.HeaderAttempt))

	r.mu.Lock()
	delay, tolerance := r.delay, r.tolerance
	r.mu.Unlock()
	if err == nil {
		err = webhook.Verify(r.secrets, req.Header, body, time.Now(), tolerance)
	}
	call.Err = err

	status := http.StatusNoContent
	switch {
	case err != nil:
		status = http.StatusUnauthorized
	default:
		r.mu.Lock()
		if r.failLeft > 0 {
			r.failLeft--
			status = r.failWith
		}
		r.mu.Unlock()
	}

	if delay > 0 {
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-req.Context().Done():
		}
		timer.Stop()
	}
	call.Status = status
	r.record(call)
	w.WriteHeader(status)
}

func (r *Receiver) record(c Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	close(r.changed)
	r.changed = make(chan struct{})
}
