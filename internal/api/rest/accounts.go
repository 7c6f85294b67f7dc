package rest

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/readmodel/features"
	"github.com/bluepoint/bluepoint/internal/readmodel/users"
	"github.com/bluepoint/bluepoint/internal/service"
)

// OpenAccountBody is a sign-up.
type OpenAccountBody struct {
	Kind     string          `json:"kind" enum:"civilian,officer,merchant,charity,family" doc:"Officers, charities and families start pending until staff verify them."`
	Name     string          `json:"name" maxLength:"200" doc:"A person's or an organisation's name."`
	Email    string          `json:"email" format:"email" maxLength:"254"`
	Password string          `json:"password" minLength:"12" maxLength:"256" doc:"At least 12 characters."`
	Phone    string          `json:"phone,omitempty" maxLength:"40"`
	Profile  account.Profile `json:"profile,omitempty" doc:"The fields of the account's kind: badge_number and department (officer), business_name and address (merchant), registration_number (charity), household_size and sponsor_charity_id (family)."`
}

// AccountView is an account as the API shows it. Personal fields (name,
// email, phone, badge number, address) and the balance are shown only to
// the account itself and to staff.
type AccountView struct {
	ID         string         `json:"id"`
	Kind       account.Kind   `json:"kind"`
	Status     account.Status `json:"status"`
	Name       string         `json:"name,omitempty"`
	Email      string         `json:"email,omitempty"`
	Phone      string         `json:"phone,omitempty"`
	Profile    ProfileView    `json:"profile"`
	Balance    *int64         `json:"balance,omitempty"`
	OpenedAt   time.Time      `json:"opened_at"`
	VerifiedAt *time.Time     `json:"verified_at,omitempty"`
	ClosedAt   *time.Time     `json:"closed_at,omitempty"`
	Erased     bool           `json:"erased" doc:"The account's personal data was erased; personal fields read [erased]."`
}

// ProfileView is the kind-specific part of an account.
type ProfileView struct {
	BadgeNumber        string `json:"badge_number,omitempty"`
	Department         string `json:"department,omitempty"`
	BusinessName       string `json:"business_name,omitempty"`
	Address            string `json:"address,omitempty"`
	RegistrationNumber string `json:"registration_number,omitempty"`
	HouseholdSize      int    `json:"household_size,omitempty"`
	SponsorCharityID   string `json:"sponsor_charity_id,omitempty"`
}

// AccountPath names an account.
type AccountPath struct {
	ID string `path:"id" maxLength:"100" doc:"The account id."`
}

type openAccountInput struct {
	Idempotent
	Body OpenAccountBody
}

type closeAccountInput struct {
	Idempotent
	AccountPath
	Body struct {
		Reason string `json:"reason,omitempty" maxLength:"500"`
	}
}

type accountCommandInput struct {
	Idempotent
	AccountPath
}

// Balance is an account's balance.
type Balance struct {
	AccountID string `json:"account_id"`
	Balance   int64  `json:"balance"`
}

// Page is one page of a list; NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty" doc:"Pass it as cursor to get the next page; absent on the last page."`
}

// PageQuery is the paging of a list.
type PageQuery struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"At most this many items."`
	Cursor string `query:"cursor" maxLength:"500" doc:"The next_cursor of the previous page."`
}

type connectionsInput struct {
	AccountPath
	Depth int `query:"depth" minimum:"1" maximum:"3" default:"3" doc:"How many hops away."`
	PageQuery
}

// Connections are a page of the accounts linked to one through
// transactions.
type Connections struct {
	AccountID  string             `json:"account_id"`
	Depth      int                `json:"depth"`
	Items      []users.Connection `json:"items" doc:"Each account at its smallest number of hops, the nearest first, then by account id."`
	NextCursor string             `json:"next_cursor,omitempty" doc:"Pass it as cursor to get the next page; absent on the last page."`
}

// RatingView is an account's rating with the features it is computed from.
type RatingView struct {
	AccountID string            `json:"account_id"`
	Rating    int64             `json:"rating" minimum:"0" maximum:"100"`
	Features  features.Features `json:"features"`
}

func (s *Server) accountRoutes() {
	register(s, created(op("open-account", http.MethodPost, "/v1/accounts", "Sign up", "accounts", true)),
		func(ctx context.Context, in *openAccountInput) (*Result[service.AccountRef], error) {
			b := in.Body
			return result[service.AccountRef](s.Service.OpenAccount(ctx, call(ctx, in.IdempotencyKey, "open-account", b),
				service.OpenAccount{Kind: account.Kind(b.Kind), Name: b.Name, Email: b.Email, Password: b.Password, Phone: b.Phone, Profile: b.Profile}))
		})
	register(s, op("get-account", http.MethodGet, "/v1/accounts/{id}", "An account's profile", "accounts", false),
		func(ctx context.Context, in *AccountPath) (*Body[AccountView], error) {
			a, err := signedIn(ctx)
			if err != nil {
				return nil, err
			}
			return body(s.accountView(ctx, in.ID, a.ID == in.ID || a.IsStaff()))
		})
	register(s, op("verify-account", http.MethodPost, "/v1/accounts/{id}/verify", "Verify a pending officer, charity or family (staff)", "accounts", false),
		func(ctx context.Context, in *accountCommandInput) (*Result[service.AccountRef], error) {
			if _, err := requireKind(ctx, account.Staff); err != nil {
				return nil, err
			}
			return result[service.AccountRef](s.Service.VerifyAccount(ctx, call(ctx, in.IdempotencyKey, "verify-account", in.ID), in.ID))
		})
	register(s, op("close-account", http.MethodPost, "/v1/accounts/{id}/close", "Close an account (itself or staff)", "accounts", false),
		func(ctx context.Context, in *closeAccountInput) (*Result[service.AccountRef], error) {
			if _, err := selfOrStaff(ctx, in.ID); err != nil {
				return nil, err
			}
			return result[service.AccountRef](s.Service.CloseAccount(ctx, call(ctx, in.IdempotencyKey, "close-account", in), in.ID, in.Body.Reason))
		})
	register(s, op("erase-personal-data", http.MethodDelete, "/v1/accounts/{id}/personal-data", "Erase an account's personal data (itself or staff)", "accounts", false),
		func(ctx context.Context, in *AccountPath) (*Result[service.AccountRef], error) {
			if _, err := selfOrStaff(ctx, in.ID); err != nil {
				return nil, err
			}
			return result[service.AccountRef](s.Service.EraseAccount(ctx, call(ctx, "", "", nil), in.ID))
		})
	register(s, op("get-balance", http.MethodGet, "/v1/accounts/{id}/balance", "An account's balance (itself or staff)", "accounts", false),
		func(ctx context.Context, in *AccountPath) (*Body[Balance], error) {
			if _, err := selfOrStaff(ctx, in.ID); err != nil {
				return nil, err
			}
			st, err := s.account(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &Body[Balance]{Body: Balance{AccountID: st.ID, Balance: st.Balance}}, nil
		})
	register(s, op("list-account-transactions", http.MethodGet, "/v1/accounts/{id}/transactions", "An account's transactions, newest first (itself or staff)", "accounts", false),
		func(ctx context.Context, in *pagedAccountInput) (*Body[Page[users.Transaction]], error) {
			if _, err := selfOrStaff(ctx, in.ID); err != nil {
				return nil, err
			}
			items, next, err := users.AccountTransactions(ctx, s.ReadDB, in.ID, in.Limit, in.Cursor)
			return body(Page[users.Transaction]{Items: items, NextCursor: next}, err)
		})
	register(s, op("list-connections", http.MethodGet, "/v1/accounts/{id}/connections", "Accounts linked to one through transactions, the nearest first, then by id (itself or staff)", "accounts", false),
		func(ctx context.Context, in *connectionsInput) (*Body[Connections], error) {
			if _, err := selfOrStaff(ctx, in.ID); err != nil {
				return nil, err
			}
			items, next, err := users.Connections(ctx, s.ReadDB, in.ID, in.Depth, in.Limit, in.Cursor)
			return body(Connections{AccountID: in.ID, Depth: in.Depth, Items: items, NextCursor: next}, err)
		})
	register(s, op("get-rating", http.MethodGet, "/v1/accounts/{id}/rating", "An account's rating, 0 to 100, and its features (itself or staff)", "accounts", false),
		func(ctx context.Context, in *AccountPath) (*Body[RatingView], error) {
			if _, err := selfOrStaff(ctx, in.ID); err != nil {
				return nil, err
			}
			f, err := features.Get(ctx, s.ReadDB, in.ID)
			return body(RatingView{AccountID: in.ID, Rating: f.Rating, Features: f}, err)
		})
}

// account loads an account from the event store: always current, so a
// client reads its own writes.
func (s *Server) account(ctx context.Context, id string) (account.State, error) {
	st, err := s.Service.Account(ctx, id)
	if err != nil {
		return st, err
	}
	if !st.Exists() {
		return st, notFound("no such account")
	}
	return st, nil
}

func (s *Server) accountView(ctx context.Context, id string, personal bool) (AccountView, error) {
	st, err := s.account(ctx, id)
	if err != nil {
		return AccountView{}, err
	}
	v := AccountView{ID: st.ID, Kind: st.Kind, Status: st.Status, OpenedAt: st.OpenedAt, Erased: !st.ErasedAt.IsZero(),
		Profile: ProfileView{Department: st.Profile.Department, BusinessName: st.Profile.BusinessName,
			RegistrationNumber: st.Profile.RegistrationNumber, HouseholdSize: st.Profile.HouseholdSize,
			SponsorCharityID: st.Profile.SponsorCharityID}}
	if !st.VerifiedAt.IsZero() {
		v.VerifiedAt = &st.VerifiedAt
	}
	if !st.ClosedAt.IsZero() {
		v.ClosedAt = &st.ClosedAt
	}
	if !personal {
		return v, nil
	}
	balance := st.Balance
	v.Balance = &balance
	for _, f := range []struct{ dst, sealed *string }{
		{&v.Name, &st.Name}, {&v.Email, &st.Email}, {&v.Phone, &st.Phone},
		{&v.Profile.BadgeNumber, &st.Profile.BadgeNumber}, {&v.Profile.Address, &st.Profile.Address},
	} {
		if *f.sealed == "" {
			continue
		}
		if *f.dst, err = s.open(ctx, *f.sealed); err != nil {
			return AccountView{}, err
		}
	}
	return v, nil
}

// open decrypts a personal field; an erased one reads pii.Erased.
func (s *Server) open(ctx context.Context, sealed string) (string, error) {
	if !pii.IsSealed(sealed) {
		return sealed, nil
	}
	v, err := s.Service.Cipher().Open(ctx, sealed)
	if errors.Is(err, pii.ErrErased) {
		return pii.Erased, nil
	}
	return v, err
}
