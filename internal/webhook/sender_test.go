package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/webhook"
	"github.com/bluepoint/bluepoint/internal/webhook/webhooktest"
)

var (
	secret = []byte("receiver-secret")
	event  = []byte(`{"specversion":"1.0","id":"ev-1","type":"DonationMade","source":"/bluepoint","data":{}}`)
)

const wait = 5 * time.Second

// statusErr asserts err is a *StatusError with the given status and
// retryability, and that Retryable agrees.
func statusErr(t *testing.T, err error, status int, retryable bool) {
	t.Helper()
	se, ok := errors.AsType[*webhook.StatusError](err)
	if !ok {
		t.Fatalf("err = %v (%T), want *StatusError %d", err, err, status)
	}
	if se.Status != status || se.Retryable != retryable {
		t.Fatalf("StatusError = %+v, want status %d retryable %v", *se, status, retryable)
	}
	if webhook.Retryable(err) != retryable {
		t.Fatalf("Retryable(%v) = %v, want %v", err, !retryable, retryable)
	}
}

func TestSendDelivers(t *testing.T) {
	rcv := webhooktest.New(t, secret)
	s := &webhook.Sender{Secret: secret}
	res, err := s.Send(t.Context(), rcv.URL(), "ev-1", 1, event)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Status != http.StatusNoContent || res.Duration <= 0 {
		t.Fatalf("Result = %+v", res)
	}
	got := rcv.WaitFor(t, 1, wait)
	c := got[0]
	if c.EventID != "ev-1" || c.Attempt != 1 || string(c.Body) != string(event) || c.Err != nil {
		t.Fatalf("received %+v", c)
	}
	if ct := c.Header.Get("Content-Type"); ct != "application/cloudevents+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if ua := c.Header.Get("User-Agent"); ua != "Bluepoint-Webhook/1" {
		t.Errorf("User-Agent = %q", ua)
	}
}

func TestSendRotatedSecret(t *testing.T) {
	rcv := webhooktest.New(t, []byte("new-secret"), secret)
	if _, err := (&webhook.Sender{Secret: secret}).Send(t.Context(), rcv.URL(), "ev-1", 1, event); err != nil {
		t.Fatalf("receiver holding old and new secret: %v", err)
	}
}

func TestReceiverRejectsBadSignature(t *testing.T) {
	rcv := webhooktest.New(t, secret)
	s := &webhook.Sender{Secret: []byte("another-secret")}
	res, err := s.Send(t.Context(), rcv.URL(), "ev-1", 1, event)
	statusErr(t, err, http.StatusUnauthorized, false)
	if res.Status != http.StatusUnauthorized {
		t.Fatalf("Result.Status = %d", res.Status)
	}
	calls := rcv.Calls()
	if len(calls) != 1 || !errors.Is(calls[0].Err, webhook.ErrBadSignature) {
		t.Fatalf("calls = %+v, want one rejected with ErrBadSignature", calls)
	}
	if d := rcv.Deliveries(); len(d) != 0 {
		t.Fatalf("accepted %d deliveries with a wrong secret", len(d))
	}
}

func TestReceiverRejectsStaleTimestamp(t *testing.T) {
	rcv := webhooktest.New(t, secret)
	s := &webhook.Sender{Secret: secret, Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }}
	_, err := s.Send(t.Context(), rcv.URL(), "ev-1", 1, event)
	statusErr(t, err, http.StatusUnauthorized, false)
	if calls := rcv.Calls(); len(calls) != 1 || !errors.Is(calls[0].Err, webhook.ErrStale) {
		t.Fatalf("calls = %+v, want one rejected with ErrStale", calls)
	}
}

func TestSendFailsThenSucceeds(t *testing.T) {
	rcv := webhooktest.New(t, secret)
	rcv.FailFirst(1, http.StatusServiceUnavailable)
	s := &webhook.Sender{Secret: secret}

	_, err := s.Send(t.Context(), rcv.URL(), "ev-1", 1, event)
	statusErr(t, err, http.StatusServiceUnavailable, true)
	if _, err := s.Send(t.Context(), rcv.URL(), "ev-1", 2, event); err != nil {
		t.Fatalf("second attempt: %v", err)
	}

	got := rcv.WaitFor(t, 1, wait)
	if len(got) != 1 || got[0].Attempt != 2 {
		t.Fatalf("deliveries = %+v, want attempt 2 accepted", got)
	}
	calls := rcv.Calls()
	if len(calls) != 2 || calls[0].Attempt != 1 || calls[0].Status != 503 || calls[1].Attempt != 2 || calls[1].Status != 204 {
		t.Fatalf("calls = %+v, want attempt 1 -> 503, attempt 2 -> 204", calls)
	}
	if calls[0].EventID != calls[1].EventID {
		t.Fatal("event id changed between attempts")
	}
}

func TestSendStatusClassification(t *testing.T) {
	for _, tt := range []struct {
		status    int
		retryable bool
	}{
		{400, false}, {403, false}, {404, false}, {410, false}, {422, false},
		{408, true}, {429, true}, {500, true}, {502, true}, {503, true}, {504, true},
	} {
		rcv := webhooktest.New(t, secret)
		rcv.FailFirst(1, tt.status)
		_, err := (&webhook.Sender{Secret: secret}).Send(t.Context(), rcv.URL(), "ev-1", 1, event)
		statusErr(t, err, tt.status, tt.retryable)
	}
}

func TestSendTimeoutIsRetryable(t *testing.T) {
	rcv := webhooktest.New(t, secret)
	rcv.SetDelay(10 * time.Second)
	s := &webhook.Sender{Secret: secret, Timeout: 100 * time.Millisecond}
	res, err := s.Send(t.Context(), rcv.URL(), "ev-1", 1, event)
	if err == nil {
		t.Fatal("Send returned nil for a receiver slower than the timeout")
	}
	if _, ok := errors.AsType[*webhook.StatusError](err); ok || !webhook.Retryable(err) {
		t.Fatalf("err = %v, want a retryable non-status error", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if res.Status != 0 || res.Duration >= 5*time.Second {
		t.Fatalf("Result = %+v", res)
	}
}

func TestSendDoesNotFollowRedirects(t *testing.T) {
	rcv := webhooktest.New(t, secret)
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, rcv.URL(), http.StatusTemporaryRedirect)
	}))
	defer moved.Close()

	client := &http.Client{} // follows redirects on its own
	s := &webhook.Sender{Client: client, Secret: secret}
	res, err := s.Send(t.Context(), moved.URL, "ev-1", 1, event)
	statusErr(t, err, http.StatusTemporaryRedirect, false)
	if res.Status != http.StatusTemporaryRedirect {
		t.Fatalf("Result.Status = %d", res.Status)
	}
	if calls := rcv.Calls(); len(calls) != 0 {
		t.Fatalf("redirect target received %d calls", len(calls))
	}
	if client.CheckRedirect != nil {
		t.Fatal("Send modified the caller's client")
	}
}

func TestSendErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	canceled, cancel := context.WithCancel(t.Context())
	cancel()

	for _, tt := range []struct {
		name      string
		ctx       context.Context
		secret    []byte
		url       string
		config    bool
		retryable bool
	}{
		{"no secret", t.Context(), nil, closed.URL, true, false},
		{"not http", t.Context(), secret, "ftp://example.invalid/hook", true, false},
		{"no host", t.Context(), secret, "http:///hook", true, false},
		{"malformed", t.Context(), secret, "http://[::1", true, false},
		{"connection refused", t.Context(), secret, closed.URL + "/hook?token=hush", false, true},
		{"caller canceled", canceled, secret, closed.URL, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&webhook.Sender{Secret: tt.secret}).Send(tt.ctx, tt.url, "ev-1", 1, event)
			if err == nil {
				t.Fatal("Send returned nil")
			}
			if errors.Is(err, webhook.ErrConfig) != tt.config || webhook.Retryable(err) != tt.retryable {
				t.Fatalf("err = %v: config %v retryable %v, want %v %v",
					err, errors.Is(err, webhook.ErrConfig), webhook.Retryable(err), tt.config, tt.retryable)
			}
			if strings.Contains(err.Error(), "hush") {
				t.Fatalf("error leaks the URL's query: %v", err)
			}
		})
	}
	if webhook.Retryable(nil) {
		t.Fatal("Retryable(nil) = true")
	}
}

func TestSendDrainsLargeResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := webhook.Verify([][]byte{secret}, r.Header, event, time.Now(), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.Write([]byte(strings.Repeat("x", 1<<20)))
	}))
	defer srv.Close()
	res, err := (&webhook.Sender{Secret: secret}).Send(t.Context(), srv.URL, "ev-1", 1, event)
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("Send = %+v, %v", res, err)
	}
}
