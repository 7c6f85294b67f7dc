package graphql

import (
	"context"
	"errors"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/readmodel/features"
	"github.com/bluepoint/bluepoint/internal/readmodel/users"
)

// The users-domain questions, asked at the root (Query.officersMet) or of
// an account (Account.officersMet): both go through these, so the two ways
// in share one answer and one rule about who may ask.

func (s *server) transactions(ctx context.Context, accountID string, first *int64, after *string) (*TransactionPage, error) {
	if err := selfOrStaff(ctx, accountID); err != nil {
		return nil, err
	}
	n, err := pageSize(first, users.MaxPageSize)
	if err != nil {
		return nil, err
	}
	items, next, err := users.AccountTransactions(ctx, s.deps.ReadDB, accountID, n, deref(after))
	if err != nil {
		return nil, err
	}
	page := &TransactionPage{Items: transactionsOf(items), NextCursor: opt(next)}
	s.prefetchParties(ctx, page.Items, "items")
	return page, nil
}

func (s *server) officersMet(ctx context.Context, civilianID string, first *int64, after *string) ([]OfficerMet, error) {
	if err := selfOrStaff(ctx, civilianID); err != nil {
		return nil, err
	}
	n, err := pageSize(first, users.MaxPageSize)
	if err != nil {
		return nil, err
	}
	// No opener: the officers' names come through Account.name, which
	// shows them only to the officer itself and staff.
	met, _, err := users.OfficersMet(ctx, s.deps.ReadDB, civilianID, nil, n, deref(after))
	if err != nil {
		return nil, err
	}
	out, ids := make([]OfficerMet, len(met)), make([]string, len(met))
	for i, m := range met {
		out[i] = OfficerMet{OfficerID: m.OfficerID, Department: opt(m.Department), Interactions: m.Interactions, LastMet: m.LastMet,
			Cursor: m.Cursor()}
		ids[i] = m.OfficerID
	}
	s.prefetch(ctx, ids, "officer")
	return out, nil
}

func (s *server) donationsTo(ctx context.Context, recipientID string, first *int64, after *string) (*Donations, error) {
	if err := selfOrStaff(ctx, recipientID); err != nil {
		return nil, err
	}
	n, err := pageSize(first, users.MaxPageSize)
	if err != nil {
		return nil, err
	}
	d, next, err := users.DonationsPage(ctx, s.deps.ReadDB, recipientID, n, deref(after))
	if err != nil {
		return nil, err
	}
	out := &Donations{Items: transactionsOf(d.Items), Total: d.Total, Count: int64(d.Count), NextCursor: opt(next)}
	s.prefetchParties(ctx, out.Items, "items")
	return out, nil
}

func (s *server) merchantSales(ctx context.Context, merchantID string, first *int64, after *string) (*Sales, error) {
	if err := selfOrStaff(ctx, merchantID); err != nil {
		return nil, err
	}
	n, err := pageSize(first, users.MaxPageSize)
	if err != nil {
		return nil, err
	}
	sales, next, err := users.MerchantSales(ctx, s.deps.ReadDB, merchantID, n, deref(after))
	if err != nil {
		return nil, err
	}
	out := &Sales{Units: sales.Units, Points: sales.Points, Products: make([]ProductSales, len(sales.Products)), NextCursor: opt(next)}
	for i, p := range sales.Products {
		out.Products[i] = ProductSales{Sku: p.SKU, Name: p.Name, Units: p.Units, Points: p.Points}
	}
	return out, nil
}

func (s *server) connections(ctx context.Context, accountID string, depth, first *int64, after *string) ([]Connection, error) {
	if err := selfOrStaff(ctx, accountID); err != nil {
		return nil, err
	}
	d := 1
	if depth != nil {
		d = int(min(max(*depth, -1), users.MaxDepth+1)) // out of range either way; users says so
	}
	n, err := pageSize(first, users.MaxPageSize)
	if err != nil {
		return nil, err
	}
	conns, _, err := users.Connections(ctx, s.deps.ReadDB, accountID, d, n, deref(after))
	if err != nil {
		return nil, err
	}
	out, ids := make([]Connection, len(conns)), make([]string, len(conns))
	for i, c := range conns {
		ids[i] = c.AccountID
		out[i] = Connection{AccountID: c.AccountID, Depth: c.Depth, Cursor: c.Cursor()}
		if c.Kind != "" {
			k := enumOf[AccountKind](string(c.Kind))
			out[i].Kind = &k
		}
	}
	s.prefetch(ctx, ids, "account")
	return out, nil
}

func (s *server) products(ctx context.Context, merchantID string, first *int64, after *string) ([]Product, error) {
	n, err := pageSize(first, users.MaxPageSize)
	if err != nil {
		return nil, err
	}
	ps, err := users.Products(ctx, s.deps.ReadDB, merchantID, deref(after), n)
	if err != nil {
		return nil, err
	}
	out := make([]Product, len(ps))
	for i, p := range ps {
		out[i] = productOf(p)
	}
	return out, nil
}

func (s *server) rating(ctx context.Context, accountID string) (*Rating, error) {
	if err := selfOrStaff(ctx, accountID); err != nil {
		return nil, err
	}
	f, err := features.Get(ctx, s.deps.ReadDB, accountID)
	if errors.Is(err, features.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &Rating{Score: f.Rating, Interactions: f.Interactions, OfficersMet: f.OfficersMet, CiviliansMet: f.CiviliansMet,
		PointsEarned: f.PointsEarned, PointsDonated: f.PointsDonated, PointsReceived: f.PointsReceived,
		PointsRedeemed: f.PointsRedeemed, Redemptions: f.Redemptions, DaysActive: f.DaysActive,
		FirstActivity: optTime(f.FirstActivity), LastActivity: optTime(f.LastActivity)}, nil
}

// pageSize reads a first argument: its default when absent, 1 to max.
func pageSize(first *int64, maxSize int) (int, error) {
	if first == nil {
		return users.DefaultPageSize, nil
	}
	if *first < 1 || *first > int64(maxSize) {
		return 0, domain.Invalid("first", "must be 1 to %d", maxSize)
	}
	return int(*first), nil
}

// reveal opens a sealed personal field for a viewer who may see it, and
// is nil for everyone else. An erased account's fields read as erased.
func (s *server) reveal(ctx context.Context, a *Account, sealed string) (*string, error) {
	if !canSee(ctx, a.ID) {
		return nil, nil
	}
	if a.Erased {
		return opt(pii.Erased), nil
	}
	return s.open(ctx, sealed)
}

func (s *server) open(ctx context.Context, sealed string) (*string, error) {
	if sealed == "" {
		return nil, nil
	}
	v, err := s.deps.Service.Cipher().Open(ctx, sealed)
	if errors.Is(err, pii.ErrErased) {
		return opt(pii.Erased), nil
	}
	if err != nil {
		return nil, fmt.Errorf("open a personal field: %w", err)
	}
	return &v, nil
}

// profileField opens one of the personal profile fields the read model
// does not hold (an officer's badge, a merchant's address) from the
// account's own events.
func (s *server) profileField(ctx context.Context, a *Account, kind AccountKind, field func(account.Profile) string) (*string, error) {
	if a.Kind != kind || !canSee(ctx, a.ID) {
		return nil, nil
	}
	state, err := s.deps.Service.Account(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return s.open(ctx, field(state.Profile))
}

func (r *accountResolver) Name(ctx context.Context, a *Account) (*string, error) {
	return r.s.reveal(ctx, a, a.sealedName)
}

func (r *accountResolver) Email(ctx context.Context, a *Account) (*string, error) {
	return r.s.reveal(ctx, a, a.sealedEmail)
}

func (r *accountResolver) Phone(ctx context.Context, a *Account) (*string, error) {
	return r.s.reveal(ctx, a, a.sealedPhone)
}

func (r *accountResolver) BadgeNumber(ctx context.Context, a *Account) (*string, error) {
	return r.s.profileField(ctx, a, AccountKindOfficer, func(p account.Profile) string { return p.BadgeNumber })
}

func (r *accountResolver) Address(ctx context.Context, a *Account) (*string, error) {
	return r.s.profileField(ctx, a, AccountKindMerchant, func(p account.Profile) string { return p.Address })
}

func (r *accountResolver) SponsorCharity(ctx context.Context, a *Account) (*Account, error) {
	return r.s.account(ctx, deref(a.SponsorCharityID))
}

func (r *accountResolver) Balance(ctx context.Context, a *Account) (int64, error) {
	if err := selfOrStaff(ctx, a.ID); err != nil {
		return 0, err
	}
	return a.balance, nil
}

func (r *accountResolver) Transactions(ctx context.Context, a *Account, first *int64, after *string) (*TransactionPage, error) {
	return r.s.transactions(ctx, a.ID, first, after)
}

func (r *accountResolver) Connections(ctx context.Context, a *Account, depth, first *int64, after *string) ([]Connection, error) {
	return r.s.connections(ctx, a.ID, depth, first, after)
}

func (r *accountResolver) Rating(ctx context.Context, a *Account) (*Rating, error) {
	return r.s.rating(ctx, a.ID)
}

func (r *accountResolver) OfficersMet(ctx context.Context, a *Account, first *int64, after *string) ([]OfficerMet, error) {
	return r.s.officersMet(ctx, a.ID, first, after)
}

func (r *accountResolver) DonationsReceived(ctx context.Context, a *Account, first *int64, after *string) (*Donations, error) {
	return r.s.donationsTo(ctx, a.ID, first, after)
}

func (r *accountResolver) Sales(ctx context.Context, a *Account, first *int64, after *string) (*Sales, error) {
	return r.s.merchantSales(ctx, a.ID, first, after)
}

func (r *accountResolver) Products(ctx context.Context, a *Account, first *int64, after *string) ([]Product, error) {
	return r.s.products(ctx, a.ID, first, after)
}

func (r *transactionResolver) From(ctx context.Context, t *Transaction) (*Account, error) {
	return r.s.account(ctx, t.FromID)
}

func (r *transactionResolver) To(ctx context.Context, t *Transaction) (*Account, error) {
	return r.s.account(ctx, t.ToID)
}

func (r *officerMetResolver) Officer(ctx context.Context, m *OfficerMet) (*Account, error) {
	return r.s.account(ctx, m.OfficerID)
}

func (r *connectionResolver) Account(ctx context.Context, c *Connection) (*Account, error) {
	return r.s.account(ctx, c.AccountID)
}

func (r *productResolver) Merchant(ctx context.Context, p *Product) (*Account, error) {
	return r.s.account(ctx, p.MerchantID)
}

func (r *queryResolver) Me(ctx context.Context) (*Account, error) {
	return r.s.account(ctx, api.ActorFrom(ctx).ID)
}

func (r *queryResolver) Account(ctx context.Context, id string) (*Account, error) {
	return r.s.account(ctx, id)
}

func (r *queryResolver) Transactions(ctx context.Context, accountID string, first *int64, after *string) (*TransactionPage, error) {
	return r.s.transactions(ctx, accountID, first, after)
}

func (r *queryResolver) OfficersMet(ctx context.Context, civilianID string, first *int64, after *string) ([]OfficerMet, error) {
	return r.s.officersMet(ctx, civilianID, first, after)
}

func (r *queryResolver) DonationsTo(ctx context.Context, recipientID string, first *int64, after *string) (*Donations, error) {
	return r.s.donationsTo(ctx, recipientID, first, after)
}

func (r *queryResolver) MerchantSales(ctx context.Context, merchantID string, first *int64, after *string) (*Sales, error) {
	return r.s.merchantSales(ctx, merchantID, first, after)
}

func (r *queryResolver) Connections(ctx context.Context, accountID string, depth, first *int64, after *string) ([]Connection, error) {
	return r.s.connections(ctx, accountID, depth, first, after)
}

func (r *queryResolver) Products(ctx context.Context, merchantID string, first *int64, after *string) ([]Product, error) {
	return r.s.products(ctx, merchantID, first, after)
}
