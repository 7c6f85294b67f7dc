package graphql

import (
	"context"
	"encoding/json"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/rules"
	"github.com/bluepoint/bluepoint/internal/service"
)

// Every mutation hands its arguments to the service as they are: the
// service checks who may do what and the domain checks the rest, so the
// rules live in one place for both API edges.

func accountRef(ref service.AccountRef, err error) (*AccountRef, error) {
	if err != nil {
		return nil, err
	}
	return &AccountRef{ID: ref.ID, Kind: enumOf[AccountKind](string(ref.Kind)), Status: enumOf[AccountStatus](string(ref.Status))}, nil
}

func profileOf(p *ProfileInput) account.Profile {
	if p == nil {
		return account.Profile{}
	}
	return account.Profile{BadgeNumber: deref(p.BadgeNumber), Department: deref(p.Department),
		BusinessName: deref(p.BusinessName), Address: deref(p.Address), RegistrationNumber: deref(p.RegistrationNumber),
		HouseholdSize: int(deref(p.HouseholdSize)), SponsorCharityID: deref(p.SponsorCharityID)}
}

func (r *mutationResolver) OpenAccount(ctx context.Context, in OpenAccountInput, key *string) (*AccountRef, error) {
	return accountRef(result[service.AccountRef](r.s.deps.Service.OpenAccount(ctx, call(ctx, key), service.OpenAccount{
		Kind: account.Kind(valueOf(in.Kind)), Name: in.Name, Email: in.Email, Password: in.Password,
		Phone: deref(in.Phone), Profile: profileOf(in.Profile)})))
}

func (r *mutationResolver) VerifyAccount(ctx context.Context, id string, key *string) (*AccountRef, error) {
	return accountRef(result[service.AccountRef](r.s.deps.Service.VerifyAccount(ctx, call(ctx, key), id)))
}

func (r *mutationResolver) CloseAccount(ctx context.Context, id string, reason, key *string) (*AccountRef, error) {
	return accountRef(result[service.AccountRef](r.s.deps.Service.CloseAccount(ctx, call(ctx, key), id, deref(reason))))
}

func (r *mutationResolver) UpdateProfile(ctx context.Context, id string, in UpdateProfileInput, key *string) (*AccountRef, error) {
	return accountRef(result[service.AccountRef](r.s.deps.Service.UpdateProfile(ctx, call(ctx, key), id,
		in.Name, deref(in.Phone), profileOf(in.Profile))))
}

func (r *mutationResolver) EraseAccount(ctx context.Context, id string, key *string) (*AccountRef, error) {
	return accountRef(result[service.AccountRef](r.s.deps.Service.EraseAccount(ctx, call(ctx, key), id)))
}

func (r *mutationResolver) RequestEncounter(ctx context.Context, key *string) (*EncounterToken, error) {
	tok, err := r.s.deps.Service.RequestEncounter(ctx, call(ctx, key))
	if err != nil {
		return nil, err
	}
	return &EncounterToken{Token: tok.Token, ExpiresAt: tok.ExpiresAt, QRPng: tok.QRPNG}, nil
}

func (r *mutationResolver) RecordInteraction(ctx context.Context, token string, key *string) (*Interaction, error) {
	res, err := result[service.InteractionResult](r.s.deps.Service.RecordInteraction(ctx, call(ctx, key), token))
	if err != nil {
		return nil, err
	}
	return &Interaction{ID: res.ID, CivilianID: res.CivilianID, OfficerID: res.OfficerID,
		CivilianPoints: res.Points[rules.PartyCivilian], OfficerPoints: res.Points[rules.PartyOfficer],
		RuleVersion: int64(res.RuleVersion)}, nil
}

func transferOf(t service.TransferResult, err error) (*TransferResult, error) {
	if err != nil {
		return nil, err
	}
	return &TransferResult{ID: t.ID, FromID: t.From, ToID: t.To, Points: t.Points, Bonus: t.Bonus,
		RuleVersion: int64(t.RuleVersion)}, nil
}

func (r *mutationResolver) Donate(ctx context.Context, to string, points int64, note, key *string) (*TransferResult, error) {
	return transferOf(result[service.TransferResult](r.s.deps.Service.Donate(ctx, call(ctx, key), to, points, deref(note))))
}

func (r *mutationResolver) Give(ctx context.Context, to string, points int64, key *string) (*TransferResult, error) {
	return transferOf(result[service.TransferResult](r.s.deps.Service.Give(ctx, call(ctx, key), to, points)))
}

func product(p service.ProductView, err error) (*Product, error) {
	if err != nil {
		return nil, err
	}
	v := productViewOf(p)
	return &v, nil
}

func (r *mutationResolver) ListProduct(ctx context.Context, merchantID string, in ListProductInput, key *string) (*Product, error) {
	return product(result[service.ProductView](r.s.deps.Service.ListProduct(ctx, call(ctx, key), merchantID,
		in.Sku, in.Name, in.PricePoints, in.Stock)))
}

func (r *mutationResolver) Restock(ctx context.Context, merchantID, sku string, quantity int64, key *string) (*Product, error) {
	return product(result[service.ProductView](r.s.deps.Service.Restock(ctx, call(ctx, key), merchantID, sku, quantity)))
}

func (r *mutationResolver) Reprice(ctx context.Context, merchantID, sku string, price int64, key *string) (*Product, error) {
	return product(result[service.ProductView](r.s.deps.Service.Reprice(ctx, call(ctx, key), merchantID, sku, price)))
}

func (r *mutationResolver) Delist(ctx context.Context, merchantID, sku string, key *string) (*Product, error) {
	return product(result[service.ProductView](r.s.deps.Service.Delist(ctx, call(ctx, key), merchantID, sku)))
}

func (r *mutationResolver) Redeem(ctx context.Context, merchantID, sku string, quantity int64, expectedPrice *int64, key *string) (*Redemption, error) {
	res, err := result[service.RedemptionResult](r.s.deps.Service.Redeem(ctx, call(ctx, key), merchantID, sku, quantity, deref(expectedPrice)))
	if err != nil {
		return nil, err
	}
	return &Redemption{ID: res.ID, VoucherCode: res.VoucherCode, Points: res.Points, Quantity: res.Quantity,
		RuleVersion: int64(res.RuleVersion)}, nil
}

func (r *mutationResolver) ChangeRule(ctx context.Context, kind TransactionKind, points []PartyPointsInput, condition, key *string) (*Rule, error) {
	byParty := make(map[string]int64, len(points))
	for _, p := range points {
		byParty[p.Party] = p.Points
	}
	rule, err := result[rules.Rule](r.s.deps.Service.ChangeRule(ctx, call(ctx, key), valueOf(kind), byParty, deref(condition)))
	if err != nil {
		return nil, err
	}
	return ruleOf(rule), nil
}

func (r *mutationResolver) RecordEvent(ctx context.Context, in RecordEventInput, key *string) (*RecordedEvent, error) {
	ref, err := result[service.ActivityRef](r.s.deps.Service.RecordEvent(ctx, call(ctx, key), service.ExternalEvent{
		Type: in.Type, Description: in.Description, CustomerID: deref(in.CustomerID), OccurredAt: in.OccurredAt,
		Data: json.RawMessage(in.Data)}))
	if err != nil {
		return nil, err
	}
	return &RecordedEvent{ID: ref.ID, Type: ref.Type, CustomerID: opt(ref.CustomerID), OccurredAt: ref.OccurredAt}, nil
}
