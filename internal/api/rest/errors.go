package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/auth/token"
	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/product"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/readmodel/eventlog"
	"github.com/bluepoint/bluepoint/internal/readmodel/features"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// Problem codes beyond the domain's own (see domain.Code*). Each names a
// stable type URI, /problems/<code>, that clients may branch on.
const (
	codeBadRequest        = "bad_request"
	codeUnauthenticated   = "unauthenticated"
	codeBadCredentials    = "bad_credentials"
	codeRefreshReused     = "refresh_token_reused"
	codeRateLimited       = "rate_limited"
	codeIdempotencyReused = "idempotency_key_reused"
	codeBusy              = "busy"
	codeTooLarge          = "body_too_large"
	codeUnavailable       = "unavailable"
	codeInternal          = "internal"
)

// problemDocs says, per code, what a client can do about it; /problems/{code}
// serves it, so every type URI resolves to something a person can read.
var problemDocs = map[string]string{
	domain.CodeInvalid:            "The request is malformed: a field is missing, of the wrong shape or out of range. The errors list names each one. Sending it again unchanged cannot succeed.",
	domain.CodeNotFound:           "What the request names does not exist, or the caller may not know that it does.",
	domain.CodeConflict:           "The request clashes with the current state, for example opening an account with an email already in use or verifying an active account.",
	domain.CodeForbidden:          "The caller is signed in but may not do this.",
	domain.CodeInsufficientFunds:  "The account does not hold enough points.",
	domain.CodeAccountClosed:      "The account is closed: it neither earns nor spends.",
	domain.CodeAccountPending:     "The account waits for a staff verification and cannot transact yet.",
	product.CodeInsufficientStock: "The product has fewer units in stock than asked for; ask for fewer.",
	transfer.CodeRuleRefused:      "The business rules refuse this transaction for now, for example a daily cap; the detail gives the rule's reason.",
	codeBadRequest:                "The request could not be read: malformed JSON or parameters.",
	codeUnauthenticated:           "Sign in first (POST /v1/auth/token) and send the access token as \"Authorization: Bearer <token>\"; an expired token must be refreshed.",
	codeBadCredentials:            "The email or password is wrong.",
	codeRefreshReused:             "The refresh token was used before. Its whole session was revoked: sign in again.",
	codeRateLimited:               "Too many attempts. Wait for the time Retry-After gives.",
	codeIdempotencyReused:         "The Idempotency-Key was already used for a different request. Use a new key for a new request.",
	codeBusy:                      "Other requests changed the same data at the same moment, too often to retry. Send the request again.",
	codeTooLarge:                  "The request body is too large.",
	codeUnavailable:               "The service cannot answer right now. Try again shortly.",
	codeInternal:                  "Something failed inside Bluepoint. Quote the trace id from the X-Trace-Id header when reporting it.",
}

func problemDoc(w http.ResponseWriter, r *http.Request) {
	doc, ok := problemDocs[r.PathValue("code")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintln(w, doc)
}

// statusCodes maps domain codes to HTTP statuses.
var statusCodes = map[string]int{
	domain.CodeInvalid:            http.StatusUnprocessableEntity,
	domain.CodeNotFound:           http.StatusNotFound,
	domain.CodeConflict:           http.StatusConflict,
	domain.CodeForbidden:          http.StatusForbidden,
	domain.CodeInsufficientFunds:  http.StatusConflict,
	domain.CodeAccountClosed:      http.StatusConflict,
	domain.CodeAccountPending:     http.StatusConflict,
	product.CodeInsufficientStock: http.StatusConflict,
	transfer.CodeRuleRefused:      http.StatusConflict,
}

// codeOfStatus names the problems huma itself raises (validation, body
// size, content type) by their status.
var codeOfStatus = map[int]string{
	http.StatusBadRequest:            codeBadRequest,
	http.StatusUnauthorized:          codeUnauthenticated,
	http.StatusForbidden:             domain.CodeForbidden,
	http.StatusNotFound:              domain.CodeNotFound,
	http.StatusConflict:              domain.CodeConflict,
	http.StatusRequestEntityTooLarge: codeTooLarge,
	http.StatusUnprocessableEntity:   domain.CodeInvalid,
	http.StatusTooManyRequests:       codeRateLimited,
	http.StatusServiceUnavailable:    codeUnavailable,
	http.StatusInternalServerError:   codeInternal,
}

// useProblems makes huma's own errors (a body that fails its schema, an
// unknown field, a body too large) carry a stable type like ours. It sets
// a package variable of huma, hence once per process.
func useProblems() {
	problemsOnce.Do(func() {
		base := huma.NewError
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			se := base(status, msg, errs...)
			if m, ok := se.(*huma.ErrorModel); ok && m.Type == "" {
				code := codeOfStatus[status]
				if code == "" {
					code = codeBadRequest
					if status >= 500 {
						code = codeInternal
					}
				}
				m.Type = api.ProblemType(code)
				if status >= 500 {
					// Never echo an internal error's text.
					m.Detail, m.Errors = "internal error", nil
				}
			}
			return se
		}
	})
}

// problem builds a problem with one of our codes.
func problem(status int, code, detail string, details ...*huma.ErrorDetail) *huma.ErrorModel {
	return &huma.ErrorModel{Type: api.ProblemType(code), Title: http.StatusText(status), Status: status,
		Detail: detail, Errors: details}
}

var errUnauthenticated = problem(http.StatusUnauthorized, codeUnauthenticated, "sign in first: send \"Authorization: Bearer <access token>\"")

func forbidden(format string, args ...any) error {
	return problem(http.StatusForbidden, domain.CodeForbidden, fmt.Sprintf(format, args...))
}

func notFound(what string) error {
	return problem(http.StatusNotFound, domain.CodeNotFound, what)
}

// problemFor is the one place where an error becomes an HTTP answer. What
// the caller can act on is said; anything else is logged with the trace id
// and answered with a bare 500 that quotes it. locs places a domain error's
// field in the operation's input (nil leaves the field's name as it is).
func (s *Server) problemFor(ctx context.Context, err error, locs fieldLocations) error {
	var (
		se         huma.StatusError
		mismatch   *command.IdempotencyMismatchError
		concurrent *eventstore.ConcurrencyError
		claim      *eventstore.ClaimConflictError
	)
	switch de := domain.As(err); {
	case errors.As(err, &se):
		return se
	case de != nil:
		status, ok := statusCodes[de.Code]
		if !ok {
			status = http.StatusUnprocessableEntity
		}
		detail := de.Message
		var details []*huma.ErrorDetail
		if de.Field != "" {
			detail = de.Field + " " + de.Message
			details = append(details, &huma.ErrorDetail{Location: locs.of(de.Field), Message: de.Message})
		}
		return problem(status, de.Code, detail, details...)
	case errors.As(err, &mismatch):
		return problem(http.StatusUnprocessableEntity, codeIdempotencyReused,
			"this Idempotency-Key was already used for a different request; use a new key",
			&huma.ErrorDetail{Location: "header.Idempotency-Key", Message: "already used for a different request"})
	case errors.Is(err, service.ErrBadCredentials):
		return problem(http.StatusUnauthorized, codeBadCredentials, err.Error())
	case errors.Is(err, token.ErrReused):
		return problem(http.StatusUnauthorized, codeRefreshReused, "this refresh token was already used; its session is revoked: sign in again")
	case errors.Is(err, token.ErrInvalid):
		return problem(http.StatusUnauthorized, codeUnauthenticated, "the refresh token is invalid or expired: sign in again")
	case errors.Is(err, eventlog.ErrNotFound), errors.Is(err, features.ErrNotFound), errors.Is(err, eventstore.ErrNotFound),
		errors.Is(err, stream.ErrDeadLetterNotFound), errors.Is(err, jetstream.ErrStreamNotFound):
		return notFound("no such resource")
	case errors.As(err, &concurrent), errors.As(err, &claim):
		return problem(http.StatusConflict, codeBusy, "other requests changed the same data at the same moment; send the request again")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, eventstore.ErrClosed):
		return problem(http.StatusServiceUnavailable, codeUnavailable, "the request could not finish; try again")
	}
	trace := api.TraceID(ctx)
	s.Logger.LogAttrs(ctx, slog.LevelError, "request failed", slog.String("trace_id", trace), slog.String("err", err.Error()))
	return problem(http.StatusInternalServerError, codeInternal, "internal error; quote trace id "+trace+" when reporting it")
}

func kindList(kinds []account.Kind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, " or ")
}
