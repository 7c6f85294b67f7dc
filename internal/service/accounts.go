package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/auth/password"
	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/pii"
)

// emailScope is the claim scope that makes emails unique across accounts.
const emailScope = "email"

// OpenAccount is a sign-up.
type OpenAccount struct {
	Kind     account.Kind
	Name     string
	Email    string
	Password string
	Phone    string
	Profile  account.Profile
}

// AccountRef is the result of opening an account.
type AccountRef struct {
	ID     string         `json:"id"`
	Kind   account.Kind   `json:"kind"`
	Status account.Status `json:"status"`
}

// OpenAccount opens an account of one of the five public kinds. The email
// is claimed (by its blind index) in the same append as the AccountOpened
// event, so two concurrent sign-ups with one email cannot both succeed; the
// password hash is stored beside the event, never in it.
func (s *Service) OpenAccount(ctx context.Context, call Call, in OpenAccount) (*command.Outcome, error) {
	if in.Kind == account.Staff {
		return nil, domain.Invalid("kind", "must be one of %v", account.Kinds)
	}
	return s.open(ctx, call, in)
}

// CreateStaff opens a platform operator's account. Only operators call it
// (the CLI), so it takes no actor.
func (s *Service) CreateStaff(ctx context.Context, name, email, pw string) (*command.Outcome, error) {
	return s.open(ctx, Call{}, OpenAccount{Kind: account.Staff, Name: name, Email: email, Password: pw})
}

func (s *Service) open(ctx context.Context, call Call, in OpenAccount) (*command.Outcome, error) {
	if err := password.CheckPolicy(in.Password); err != nil {
		return nil, domain.Invalid("password", "%s", err.(*password.PolicyError).Reason)
	}
	// Hashing is slow and the handler may run again after a conflict: hash
	// once, and fix the id once, before the pipeline.
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, fmt.Errorf("open account: %w", err)
	}
	id := newID()
	index := pii.BlindIndex(s.master, emailScope, pii.NormalizeEmail(in.Email))
	out, err := s.pipeline.Run(ctx, call.request("OpenAccount", func(ctx context.Context, sess *command.Session) (command.Result, error) {
		state, _, err := command.LoadNew(ctx, sess, accounts, id)
		if err != nil {
			return command.Result{}, err
		}
		if in.Kind == account.Family {
			if err := s.checkSponsor(ctx, sess, in.Profile.SponsorCharityID); err != nil {
				return command.Result{}, err
			}
		}
		evs, err := account.Decide(state, account.Open{
			ID: id, Kind: in.Kind, Name: in.Name, Email: in.Email, Phone: in.Phone, Profile: in.Profile,
			CredentialsAssigned: true, EmailIndex: index, At: s.now().UTC(),
		})
		if err != nil {
			return command.Result{}, err
		}
		sess.Emit(accounts.Stream(id), evs...)
		sess.Claim(emailScope, index, accounts.Stream(id))
		sess.SetCredential(id, []byte(hash))
		opened := evs[0].(account.AccountOpened)
		return reply(201, AccountRef{ID: id, Kind: opened.Kind, Status: opened.Status})
	}))
	var taken *eventstore.ClaimConflictError
	if errors.As(err, &taken) {
		return nil, domain.Conflict("email", "an account with this email already exists")
	}
	return out, err
}

// checkSponsor requires a family's sponsor to be a verified charity. The
// sponsor's stream is loaded, so its version is checked at append: a
// charity closing concurrently makes the sign-up retry and fail.
func (s *Service) checkSponsor(ctx context.Context, sess *command.Session, sponsorID string) error {
	if sponsorID == "" {
		return nil // the domain reports the missing field
	}
	if eventstore.ValidateStreamID(accounts.Stream(sponsorID)) != nil {
		return domain.Invalid("profile.sponsor_charity_id", "is not an account id")
	}
	sponsor, _, err := command.Load(ctx, sess, accounts, sponsorID)
	if err != nil {
		return err
	}
	switch {
	case !sponsor.Exists() || sponsor.Kind != account.Charity:
		return domain.Invalid("profile.sponsor_charity_id", "must be the id of a charity")
	case sponsor.Status != account.Active:
		return domain.Invalid("profile.sponsor_charity_id", "the charity is %s; it must be verified and open", sponsor.Status)
	}
	return nil
}

// VerifyAccount lets staff verify a pending officer, charity or family.
func (s *Service) VerifyAccount(ctx context.Context, call Call, id string) (*command.Outcome, error) {
	if !call.Actor.IsStaff() {
		return nil, domain.Forbidden("", "only staff verify accounts")
	}
	return s.onAccount(ctx, call, "VerifyAccount", id, func(account.State) any {
		return account.Verify{By: call.Actor.ID, At: s.now().UTC()}
	})
}

// CloseAccount closes an account (the account itself or staff).
func (s *Service) CloseAccount(ctx context.Context, call Call, id, reason string) (*command.Outcome, error) {
	if err := selfOrStaff(call.Actor, id); err != nil {
		return nil, err
	}
	out, err := s.onAccount(ctx, call, "CloseAccount", id, func(account.State) any {
		return account.Close{Reason: reason, At: s.now().UTC()}
	})
	if err != nil {
		return nil, err
	}
	return out, s.endSessions(ctx, id)
}

// UpdateProfile replaces an account's name, phone and profile.
func (s *Service) UpdateProfile(ctx context.Context, call Call, id string, name, phone string, profile account.Profile) (*command.Outcome, error) {
	if err := selfOrStaff(call.Actor, id); err != nil {
		return nil, err
	}
	return s.onAccount(ctx, call, "UpdateProfile", id, func(account.State) any {
		return account.UpdateProfile{Name: name, Phone: phone, Profile: profile, At: s.now().UTC()}
	})
}

// onAccount runs a single-account command and replies with the account's
// reference.
func (s *Service) onAccount(ctx context.Context, call Call, name, id string, cmd func(account.State) any) (*command.Outcome, error) {
	if eventstore.ValidateStreamID(accounts.Stream(id)) != nil {
		return nil, domain.NotFound("", "no such account")
	}
	return s.pipeline.Run(ctx, call.request(name, func(ctx context.Context, sess *command.Session) (command.Result, error) {
		state, _, err := command.Load(ctx, sess, accounts, id)
		if err != nil {
			return command.Result{}, err
		}
		evs, err := account.Decide(state, cmd(state))
		if err != nil {
			return command.Result{}, err
		}
		sess.Emit(accounts.Stream(id), evs...)
		for _, e := range evs {
			state = account.Evolve(state, e)
		}
		return reply(200, AccountRef{ID: id, Kind: state.Kind, Status: state.Status})
	}))
}

// EraseAccount erases an account's personal data (the account itself or
// staff): it records PersonalDataErased, releases the email so it can be
// used again, and then deletes the account's data key, after which every
// personal field of every event reads as erased. The ledger stays. A failed
// key deletion is reported; erasing again finishes it.
func (s *Service) EraseAccount(ctx context.Context, call Call, id string) (*command.Outcome, error) {
	if err := selfOrStaff(call.Actor, id); err != nil {
		return nil, err
	}
	if eventstore.ValidateStreamID(accounts.Stream(id)) != nil {
		return nil, domain.NotFound("", "no such account")
	}
	out, err := s.pipeline.Run(ctx, call.request("EraseAccount", func(ctx context.Context, sess *command.Session) (command.Result, error) {
		state, _, err := command.Load(ctx, sess, accounts, id)
		if err != nil {
			return command.Result{}, err
		}
		evs, err := account.Decide(state, account.Erase{At: s.now().UTC()})
		if err != nil {
			return command.Result{}, err
		}
		sess.Emit(accounts.Stream(id), evs...)
		if state.EmailIndex != "" && len(evs) > 0 {
			sess.Release(emailScope, state.EmailIndex, accounts.Stream(id))
		}
		return reply(200, AccountRef{ID: id, Kind: state.Kind, Status: state.Status})
	}))
	if err != nil {
		return nil, err
	}
	if err := s.cipher.Erase(ctx, id); err != nil {
		return nil, fmt.Errorf("erase account %s: delete its data key: %w", id, err)
	}
	return out, s.endSessions(ctx, id)
}

// ErrBadCredentials is the one answer to a failed sign-in, whatever failed,
// so that a sign-in never tells whether an email has an account.
var ErrBadCredentials = errors.New("the email or password is wrong")

// dummyHash is verified against when an email is unknown, so that an
// unknown email takes as long as a wrong password.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7Y4B2Yl5ZnYv6b0VJ3xq0q9cQeJ5m1s6H2n8k4y0f1A"

// Authenticate checks an email and password and returns the actor they
// belong to. Closed accounts cannot sign in.
func (s *Service) Authenticate(ctx context.Context, email, pw string) (Actor, error) {
	index := pii.BlindIndex(s.master, emailScope, pii.NormalizeEmail(email))
	owner, err := s.store.ClaimOwner(ctx, emailScope, index)
	if errors.Is(err, eventstore.ErrNotFound) {
		_ = s.hasher.Verify(ctx, dummyHash, pw)
		return Actor{}, ErrBadCredentials
	}
	if err != nil {
		return Actor{}, fmt.Errorf("sign in: %w", err)
	}
	id := owner[len(account.Category)+1:]
	hash, err := s.store.Credential(ctx, id)
	if err != nil {
		return Actor{}, fmt.Errorf("sign in: %w", err)
	}
	switch err := s.hasher.Verify(ctx, string(hash), pw); {
	case errors.Is(err, password.ErrMismatch):
		return Actor{}, ErrBadCredentials
	case err != nil:
		return Actor{}, fmt.Errorf("sign in: %w", err)
	}
	state, err := s.Account(ctx, id)
	if err != nil {
		return Actor{}, err
	}
	if state.Status == account.Closed {
		return Actor{}, ErrBadCredentials
	}
	return Actor{ID: id, Kind: state.Kind}, nil
}

// Account returns an account's current state, as its events built it. Its
// personal fields are still sealed: open them with Cipher for a reader who
// may see them.
func (s *Service) Account(ctx context.Context, id string) (account.State, error) {
	if eventstore.ValidateStreamID(accounts.Stream(id)) != nil {
		return account.State{}, domain.NotFound("", "no such account")
	}
	state, _, err := command.Current(ctx, s.pipeline, accounts, id)
	if err != nil {
		return account.State{}, fmt.Errorf("load account %s: %w", id, err)
	}
	if !state.Exists() {
		return account.State{}, domain.NotFound("", "no such account")
	}
	return state, nil
}

// EmailTaken reports whether an account holds email.
func (s *Service) EmailTaken(ctx context.Context, email string) (bool, error) {
	_, err := s.store.ClaimOwner(ctx, emailScope, pii.BlindIndex(s.master, emailScope, pii.NormalizeEmail(email)))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, eventstore.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("look up email: %w", err)
}
