package account

import (
	"fmt"

	"github.com/bluepoint/bluepoint/internal/domain"
)

// Decide returns the events that cmd produces on an account in state, or a
// *domain.Error when the command is refused (then it returns no event, so
// nothing is written). It is pure: the same state and command always give the
// same answer, which is what lets the pipeline retry it on fresh state.
//
// cmd is one of Open, Verify, UpdateProfile, Close, Credit, Debit or Erase, as a
// value. Any other type is a programming error and returns a plain error.
func Decide(state State, cmd any) ([]any, error) {
	if _, isOpen := cmd.(Open); !isOpen && known(cmd) && !state.Exists() {
		return nil, domain.NotFound("", "no such account")
	}
	switch c := cmd.(type) {
	case Open:
		return open(state, c)
	case Verify:
		return verify(state, c)
	case UpdateProfile:
		return updateProfile(state, c)
	case Close:
		return closeAccount(state, c)
	case Credit:
		return credit(state, c)
	case Debit:
		return debit(state, c)
	case Erase:
		return erase(state, c)
	}
	return nil, fmt.Errorf("account: unknown command %T", cmd)
}

// known reports whether cmd is one of the commands Decide handles.
func known(cmd any) bool {
	switch cmd.(type) {
	case Open, Verify, UpdateProfile, Close, Credit, Debit, Erase:
		return true
	}
	return false
}

func open(state State, c Open) ([]any, error) {
	if err := id("id", c.ID); err != nil {
		return nil, err
	}
	if state.Exists() {
		return nil, domain.Conflict("id", "an account with this id is already open")
	}
	if !c.Kind.Valid() {
		return nil, domain.Invalid("kind", "must be one of %v, not %q", Kinds, c.Kind)
	}
	name, err := text("name", c.Name, 1, maxName)
	if err != nil {
		return nil, err
	}
	mail, err := email(c.Email)
	if err != nil {
		return nil, err
	}
	tel, err := phone(c.Phone)
	if err != nil {
		return nil, err
	}
	prof, err := profile(c.Kind, c.Profile)
	if err != nil {
		return nil, err
	}
	if err := at(c.At); err != nil {
		return nil, err
	}
	return []any{AccountOpened{
		AccountID:           c.ID,
		Kind:                c.Kind,
		Status:              c.Kind.InitialStatus(),
		Name:                name,
		Email:               mail,
		Phone:               tel,
		Profile:             prof,
		CredentialsAssigned: c.CredentialsAssigned,
		EmailIndex:          c.EmailIndex,
		OpenedAt:            c.At,
	}}, nil
}

func verify(state State, c Verify) ([]any, error) {
	if err := id("by", c.By); err != nil {
		return nil, err
	}
	if err := at(c.At); err != nil {
		return nil, err
	}
	switch {
	case state.Status == Closed:
		return nil, domain.AccountClosed("the account is closed and cannot be verified")
	case state.Status == Active && !state.Kind.NeedsVerification():
		return nil, domain.Conflict("", "%s accounts are active from the start and need no verification", state.Kind)
	case state.Status == Active:
		return nil, domain.Conflict("", "the account is already verified")
	case c.By == state.ID:
		return nil, domain.Forbidden("by", "an account cannot verify itself")
	}
	return []any{AccountVerified{AccountID: state.ID, VerifiedBy: c.By, VerifiedAt: c.At}}, nil
}

// updateProfile emits nothing when the new values equal the current ones, so
// that a form saved twice does not grow the stream.
func updateProfile(state State, c UpdateProfile) ([]any, error) {
	if state.Status == Closed {
		return nil, domain.AccountClosed("the account is closed; its profile can no longer change")
	}
	name, err := text("name", c.Name, 1, maxName)
	if err != nil {
		return nil, err
	}
	tel, err := phone(c.Phone)
	if err != nil {
		return nil, err
	}
	prof, err := profile(state.Kind, c.Profile)
	if err != nil {
		return nil, err
	}
	if err := at(c.At); err != nil {
		return nil, err
	}
	if name == state.Name && tel == state.Phone && prof == state.Profile {
		return nil, nil
	}
	return []any{ProfileUpdated{AccountID: state.ID, Name: name, Phone: tel, Profile: prof, UpdatedAt: c.At}}, nil
}

func closeAccount(state State, c Close) ([]any, error) {
	reason, err := text("reason", c.Reason, 0, maxClose)
	if err != nil {
		return nil, err
	}
	if err := at(c.At); err != nil {
		return nil, err
	}
	if state.Status == Closed {
		return nil, domain.Conflict("", "the account is already closed")
	}
	return []any{AccountClosed{AccountID: state.ID, Reason: reason, ClosedAt: c.At}}, nil
}

// erase is allowed in any status, closed included: a person may ask for
// erasure at any time. Erasing twice records nothing the second time, so a
// caller whose key deletion failed can simply erase again.
func erase(state State, c Erase) ([]any, error) {
	if err := at(c.At); err != nil {
		return nil, err
	}
	if !state.ErasedAt.IsZero() {
		return nil, nil
	}
	return []any{PersonalDataErased{AccountID: state.ID, ErasedAt: c.At}}, nil
}
