package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// DefaultTimeout bounds one delivery attempt when Sender.Timeout is zero. A
// slow receiver must not hold a consumer for long: the attempt fails as
// retryable and the consumer backs off.
const DefaultTimeout = 5 * time.Second

// maxResponseBody is how much of a response is read (and discarded). Reading
// a small body lets the connection be reused; the limit keeps a hostile or
// broken receiver from streaming into the sender forever.
const maxResponseBody = 64 << 10

// ErrConfig marks a delivery that cannot be attempted as configured: no
// secret, or a URL that is malformed or not http(s). Retrying cannot help, so
// Retryable reports false and the event goes to the dead-letter stream.
var ErrConfig = errors.New("webhook: invalid configuration")

// Sender makes signed delivery attempts. The zero value is not usable: Secret
// must be set. A Sender is safe for concurrent use once configured.
type Sender struct {
	// Client sends the requests; nil means http.DefaultClient's transport.
	// Its CheckRedirect is overridden: redirects are never followed.
	Client *http.Client
	// Secret is the HMAC key shared with the receiver.
	Secret []byte
	// Timeout bounds each attempt, response body included; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Now is the clock used for the signature timestamp; nil means
	// time.Now. Tests set it to exercise stale timestamps.
	Now func() time.Time
}

// Result describes one attempt, successful or not, for track & trace.
type Result struct {
	// Status is the HTTP status the receiver answered, 0 if none arrived.
	Status int
	// Duration is the time from sending the request to reading the response.
	Duration time.Duration
}

// StatusError is the error for an attempt the receiver answered with a
// status other than 2xx. It carries whether the status is worth retrying so
// the consumer can decide between backing off and dead-lettering.
type StatusError struct {
	Status int
	// Retryable is true for 5xx, 408 and 429: the receiver is down, slow or
	// throttling. Other statuses (4xx, 3xx) will not change on retry.
	Retryable bool
}

// Error names the status and whether it will be retried.
func (e *StatusError) Error() string {
	kind := "not retryable"
	if e.Retryable {
		kind = "retryable"
	}
	if e.Status >= 300 && e.Status < 400 {
		kind += ", redirects are not followed"
	}
	return fmt.Sprintf("webhook: receiver answered %d %s (%s)", e.Status, http.StatusText(e.Status), kind)
}

// retryableStatus reports whether a non-2xx status may succeed later.
func retryableStatus(status int) bool {
	return status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
}

// Retryable reports whether a failed Send may succeed if tried again: true
// for network errors, timeouts and retryable statuses; false for nil,
// configuration errors and statuses that will not change (4xx, 3xx). The
// consumer runtime uses it to choose between backoff and the dead-letter
// stream.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, ErrConfig) {
		return false
	}
	if se, ok := errors.AsType[*StatusError](err); ok {
		return se.Retryable
	}
	return true
}

// Send makes one delivery attempt of body (a structured CloudEvent) to
// target, signed with s.Secret. attempt is the 1-based attempt number the
// consumer is on; it is sent so the receiver can see retries in its logs.
//
// It returns nil only for a 2xx answer. Otherwise the error is a
// *StatusError, wraps ErrConfig, or is a network error or timeout (all
// retryable); Result is filled as far as the attempt got. Errors never
// contain the URL's query or credentials, which may hold a receiver's token.
func (s *Sender) Send(ctx context.Context, target, eventID string, attempt int, body []byte) (Result, error) {
	if len(s.Secret) == 0 {
		return Result{}, fmt.Errorf("%w: no signing secret", ErrConfig)
	}
	u, err := url.Parse(target)
	if err != nil {
		return Result{}, fmt.Errorf("%w: malformed URL", ErrConfig)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Result{}, fmt.Errorf("%w: URL %s is not http(s)", ErrConfig, redact(u))
	}

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("%w: %s: %v", ErrConfig, redact(u), err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ts := now()
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderEventID, eventID)
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(s.Secret, ts, body))

	start := time.Now()
	resp, err := s.client().Do(req)
	if err != nil {
		res := Result{Duration: time.Since(start)}
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // drop the URL the client put in the message
		}
		if ctx.Err() == context.DeadlineExceeded && errors.Is(err, context.DeadlineExceeded) {
			return res, fmt.Errorf("webhook: POST %s: no answer within %s: %w", redact(u), timeout, err)
		}
		return res, fmt.Errorf("webhook: POST %s: %w", redact(u), err)
	}
	// The body is only drained; a 2xx cut short still counts as delivered,
	// since the receiver has answered.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	resp.Body.Close()
	res := Result{Status: resp.StatusCode, Duration: time.Since(start)}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return res, &StatusError{Status: resp.StatusCode, Retryable: retryableStatus(resp.StatusCode)}
	}
	return res, nil
}

// client returns a copy of the configured client that never follows
// redirects. Copying leaves the caller's client untouched and shares its
// transport, so connections are still pooled.
func (s *Sender) client() *http.Client {
	c := http.Client{}
	if s.Client != nil {
		c = *s.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	return &c
}

// redact renders a URL for error messages without user info, query or
// fragment, which may carry a receiver's credentials.
func redact(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
