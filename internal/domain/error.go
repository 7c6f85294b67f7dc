package domain

import (
	"errors"
	"fmt"
)

// Codes a rejected command can carry. They are stable: the API edges map them
// to status codes and clients branch on them, so a code is never renamed;
// the Message is for people and may change.
const (
	// CodeInvalid: the command itself is malformed (a missing or badly shaped
	// field); sending it again unchanged cannot succeed.
	CodeInvalid = "invalid"
	// CodeNotFound: the command targets something that does not exist.
	CodeNotFound = "not_found"
	// CodeConflict: the command clashes with the current state (opening an
	// account twice, verifying an active account, closing a closed one).
	CodeConflict = "conflict"
	// CodeForbidden: the actor may not do this (for example, verify itself).
	CodeForbidden = "forbidden"
	// CodeInsufficientFunds: a debit asks for more points than the balance.
	CodeInsufficientFunds = "insufficient_funds"
	// CodeAccountClosed: the account is closed; it neither earns nor spends.
	CodeAccountClosed = "account_closed"
	// CodeAccountPending: the account waits for a staff verification and
	// cannot transact yet.
	CodeAccountPending = "account_pending"
)

// Error is the one error type a domain decision returns. It says what kind of
// rejection it is (Code), which input is at fault (Field, empty when the
// whole command is) and what a person can do about it (Message).
//
// It is a plain value with no cause to unwrap on purpose: a domain rejection
// is a decision, not a failure, and the pipeline records and translates it at
// the edge once. Use errors.As to get it back from a wrapped error.
type Error struct {
	// Code is one of the Code constants.
	Code string
	// Field names the offending input in snake_case, with a dot for nesting
	// ("email", "profile.household_size"); empty when no single field is at
	// fault.
	Field string
	// Message explains the rejection in words a person can act on.
	Message string
}

// Error renders the rejection as "field: message (code)".
func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s (%s)", e.Message, e.Code)
	}
	return fmt.Sprintf("%s: %s (%s)", e.Field, e.Message, e.Code)
}

// Is reports whether target is an *Error with the same Code and, when the
// target names a Field, the same Field. It lets callers write
// errors.Is(err, &domain.Error{Code: domain.CodeConflict}) without caring
// about the message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t == nil {
		return false
	}
	return t.Code == e.Code && (t.Field == "" || t.Field == e.Field)
}

// New returns an *Error with the given code, field and message formatted
// from format and args.
func New(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Invalid rejects a malformed input field.
func Invalid(field, format string, args ...any) *Error {
	return New(CodeInvalid, field, format, args...)
}

// NotFound rejects a command on something that does not exist.
func NotFound(field, format string, args ...any) *Error {
	return New(CodeNotFound, field, format, args...)
}

// Conflict rejects a command that clashes with the current state.
func Conflict(field, format string, args ...any) *Error {
	return New(CodeConflict, field, format, args...)
}

// Forbidden rejects a command the actor may not give.
func Forbidden(field, format string, args ...any) *Error {
	return New(CodeForbidden, field, format, args...)
}

// InsufficientFunds rejects a debit larger than the balance.
func InsufficientFunds(field, format string, args ...any) *Error {
	return New(CodeInsufficientFunds, field, format, args...)
}

// AccountClosed rejects a command on a closed account.
func AccountClosed(format string, args ...any) *Error {
	return New(CodeAccountClosed, "", format, args...)
}

// AccountPending rejects a transaction on an account not yet verified.
func AccountPending(format string, args ...any) *Error {
	return New(CodeAccountPending, "", format, args...)
}

// As returns the *Error inside err, or nil when err is not a domain
// rejection (an infrastructure failure, or nil).
func As(err error) *Error {
	var de *Error
	if errors.As(err, &de) {
		return de
	}
	return nil
}
