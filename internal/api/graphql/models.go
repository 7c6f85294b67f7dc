package graphql

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/bluepoint/bluepoint/internal/readmodel/eventlog"
	"github.com/bluepoint/bluepoint/internal/readmodel/users"
	"github.com/bluepoint/bluepoint/internal/rules"
	"github.com/bluepoint/bluepoint/internal/service"
)

// Account is an account as the users read model holds it. Its personal
// fields stay sealed here: the field resolvers open them only for a viewer
// who may see them, so no code path can hand them out by accident.
type Account struct {
	ID                 string
	Kind               AccountKind
	Status             AccountStatus
	BusinessName       *string
	Department         *string
	RegistrationNumber *string
	HouseholdSize      *int
	SponsorCharityID   *string
	OpenedAt           time.Time
	VerifiedAt         *time.Time
	ClosedAt           *time.Time
	LastActivityAt     *time.Time
	Erased             bool

	sealedName, sealedEmail, sealedPhone string
	balance                              int64
}

// Transaction is one row of the users read model's transactions; its
// parties are resolved through the account loader.
type Transaction struct {
	ID          string
	Kind        TransactionKind
	FromID      string
	ToID        string
	Points      int64
	Bonus       int64
	MerchantID  *string
	SKU         *string
	Quantity    *int64
	RuleVersion int
	At          time.Time
	Note        *string
}

// OfficerMet is one officer a civilian has met; the officer's name comes
// through the account loader, under the usual personal-data rule.
type OfficerMet struct {
	OfficerID    string
	Department   *string
	Interactions int
	LastMet      time.Time
	Cursor       string
}

// Connection is an account linked to another through transactions.
type Connection struct {
	AccountID string
	Kind      *AccountKind
	Depth     int
	Cursor    string
}

// Product is a merchant's product, from the service or the read model.
type Product struct {
	MerchantID   string
	SKU          string
	Name         string
	PricePoints  int64
	Stock        int64
	Status       ProductStatus
	UnitsSold    int64
	PointsEarned int64
}

// Event is one entry of the event log. Its stored description refers to
// accounts by id; the description resolver names them for the viewer.
type Event struct {
	ID         string
	Type       string
	StreamID   string
	CustomerID *string
	OccurredAt time.Time
	Data       JSON

	description string
}

// JSON is any JSON value, passed through as it is.
type JSON json.RawMessage

// MarshalGQL writes the value as it is; an empty value is null.
func (j JSON) MarshalGQL(w io.Writer) {
	if len(j) == 0 {
		_, _ = io.WriteString(w, "null")
		return
	}
	_, _ = w.Write(j)
}

// UnmarshalGQL takes the value a client sent, already decoded.
func (j *JSON) UnmarshalGQL(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("not a JSON value: %w", err)
	}
	*j = b
	return nil
}

// enumOf and valueOf translate between the lower-case values the domain
// uses and the upper-case GraphQL enum values.
func enumOf[E ~string](v string) E { return E(strings.ToUpper(v)) }

func valueOf[E ~string](e E) string { return strings.ToLower(string(e)) }

// opt is nil for the empty value, so that unset fields read as null.
func opt[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func transactionOf(t users.Transaction) Transaction {
	return Transaction{ID: t.ID, Kind: enumOf[TransactionKind](t.Kind), FromID: t.FromID, ToID: t.ToID,
		Points: t.Points, Bonus: t.Bonus, MerchantID: opt(t.MerchantID), SKU: opt(t.SKU), Quantity: opt(t.Quantity),
		RuleVersion: t.RuleVersion, At: t.At, Note: opt(t.Note)}
}

func transactionsOf(ts []users.Transaction) []Transaction {
	out := make([]Transaction, len(ts))
	for i, t := range ts {
		out[i] = transactionOf(t)
	}
	return out
}

func productOf(p users.Product) Product {
	return Product{MerchantID: p.MerchantID, SKU: p.SKU, Name: p.Name, PricePoints: p.PricePoints, Stock: p.Stock,
		Status: enumOf[ProductStatus](p.Status), UnitsSold: p.UnitsSold, PointsEarned: p.PointsEarned}
}

func productViewOf(p service.ProductView) Product {
	return productOf(users.Product{MerchantID: p.MerchantID, SKU: p.SKU, Name: p.Name, PricePoints: p.PricePoints,
		Stock: p.Stock, Status: string(p.Status), UnitsSold: p.UnitsSold, PointsEarned: p.PointsEarned})
}

func eventOf(e eventlog.Entry) Event {
	var data JSON
	if len(e.Data) > 0 {
		data = JSON(e.Data)
	}
	return Event{ID: e.ID, Type: e.Type, StreamID: e.StreamID, CustomerID: opt(e.CustomerID), OccurredAt: e.OccurredAt,
		Data: data, description: e.Description}
}

func ruleOf(r rules.Rule) *Rule {
	out := &Rule{Kind: enumOf[TransactionKind](r.Kind), Version: int64(r.Version), Condition: opt(r.Condition),
		Points: make([]PartyPoints, 0, len(r.Points))}
	for party, n := range r.Points {
		out.Points = append(out.Points, PartyPoints{Party: party, Points: n})
	}
	slices.SortFunc(out.Points, func(a, b PartyPoints) int { return strings.Compare(a.Party, b.Party) })
	return out
}
