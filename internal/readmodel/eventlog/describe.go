package eventlog

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/activity"
	"github.com/bluepoint/bluepoint/internal/domain/product"
	"github.com/bluepoint/bluepoint/internal/domain/rule"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// summary is what the log keeps of one event besides its id, stream and
// data.
type summary struct {
	id          string
	typ         string
	customerID  string
	occurredAt  time.Time
	description string
	data        []byte
}

// ref is how a description names an account: people's names are personal
// data, sealed in the events, so a stored description never holds one.
// Render swaps the references for whatever the reader may see.
func ref(accountID string) string { return "{account:" + accountID + "}" }

// summarize describes a decoded domain event. The time is the one the event
// itself carries (when it happened by the service's clock); the store's
// recorded time is the fallback for an event without one. An event of a
// type this code does not know is still logged, with a generic
// description.
func summarize(e eventstore.Event, v any) summary {
	s := summary{id: e.ID.String(), typ: e.Type, occurredAt: e.RecordedAt, data: e.Data}
	at := func(t time.Time) {
		if !t.IsZero() {
			s.occurredAt = t
		}
	}
	switch ev := v.(type) {
	case account.AccountOpened:
		s.customerID, s.description = ev.AccountID, fmt.Sprintf("Account opened (%s)", ev.Kind)
		if ev.Status == account.Pending {
			s.description = fmt.Sprintf("Account opened (%s, awaiting verification)", ev.Kind)
		}
		at(ev.OpenedAt)
	case account.AccountVerified:
		s.customerID, s.description = ev.AccountID, "Account verified by "+ref(ev.VerifiedBy)
		at(ev.VerifiedAt)
	case account.ProfileUpdated:
		s.customerID, s.description = ev.AccountID, "Profile updated"
		at(ev.UpdatedAt)
	case account.AccountClosed:
		// The reason is the account holder's own words: it stays in the
		// data, out of the description that lists and searches show.
		s.customerID, s.description = ev.AccountID, "Account closed"
		at(ev.ClosedAt)
	case account.PersonalDataErased:
		s.customerID, s.description = ev.AccountID, "Personal data erased"
		at(ev.ErasedAt)
	case account.PointsCredited:
		s.customerID = ev.AccountID
		s.description = fmt.Sprintf("Credited %d points (%s); balance %d", ev.Points, ev.Reason, ev.Balance)
		at(ev.CreditedAt)
	case account.PointsDebited:
		s.customerID = ev.AccountID
		s.description = fmt.Sprintf("Debited %d points (%s); balance %d", ev.Points, ev.Reason, ev.Balance)
		at(ev.DebitedAt)
	case transfer.DonationMade:
		s.customerID = ev.From
		s.description = fmt.Sprintf("Donation of %d points to %s%s", ev.Points, ref(ev.To), bonus(ev.Bonus))
		at(ev.DonatedAt)
	case transfer.GiveawayMade:
		s.customerID = ev.From
		s.description = fmt.Sprintf("Giveaway of %d points to %s%s", ev.Points, ref(ev.To), bonus(ev.Bonus))
		at(ev.GivenAt)
	case transfer.RedemptionMade:
		s.customerID = ev.RedeemerID
		s.description = fmt.Sprintf("Redeemed %d x %s for %d points from %s%s", ev.Quantity, ev.SKU, ev.Points, ref(ev.MerchantID), bonus(ev.Bonus))
		at(ev.RedeemedAt)
	case transfer.InteractionRecorded:
		s.customerID = ev.CivilianID
		s.description = fmt.Sprintf("Interaction: civilian %s met officer %s (+%d/+%d points)",
			ref(ev.CivilianID), ref(ev.OfficerID), ev.CivilianPoints, ev.OfficerPoints)
		at(ev.RecordedAt)
	case product.ProductListed:
		s.customerID = ev.MerchantID
		s.description = fmt.Sprintf("Product %s listed: %q at %d points, %d in stock", ev.SKU, ev.Name, ev.PricePoints, ev.Stock)
		at(ev.ListedAt)
	case product.ProductRestocked:
		s.customerID = ev.MerchantID
		s.description = fmt.Sprintf("Product %s restocked: +%d, %d in stock", ev.SKU, ev.Quantity, ev.StockAfter)
		at(ev.RestockedAt)
	case product.ProductRepriced:
		s.customerID = ev.MerchantID
		s.description = fmt.Sprintf("Product %s repriced from %d to %d points", ev.SKU, ev.PreviousPrice, ev.PricePoints)
		at(ev.RepricedAt)
	case product.ProductDelisted:
		s.customerID, s.description = ev.MerchantID, fmt.Sprintf("Product %s delisted", ev.SKU)
		at(ev.DelistedAt)
	case product.ProductRedeemed:
		s.customerID = ev.MerchantID
		s.description = fmt.Sprintf("Sold %d x %s for %d points to %s; %d in stock", ev.Quantity, ev.SKU, ev.Points, ref(ev.RedeemerID), ev.StockAfter)
		at(ev.RedeemedAt)
	case rule.RuleChanged:
		s.description = fmt.Sprintf("Rule %s changed to version %d by %s", ev.Kind, ev.Version, ref(ev.ChangedBy))
		at(ev.ChangedAt)
	case activity.ActivityRecorded:
		// An external event is listed under its own id, type and time, as
		// it was reported; the id is the one RecordEvent answered with.
		s.id, s.typ, s.customerID, s.description, s.data = ev.EventID, ev.Type, ev.CustomerID, ev.Description, ev.Data
		at(ev.OccurredAt)
	default:
		s.description = fmt.Sprintf("%s on %s", e.Type, e.StreamID)
	}
	s.occurredAt = s.occurredAt.UTC()
	if len(s.data) == 0 {
		s.data = []byte(`{}`)
	}
	return s
}

func bonus(points int64) string {
	if points == 0 {
		return ""
	}
	return fmt.Sprintf(" (+%d bonus points)", points)
}

// refExpr matches a reference to an account in a stored description,
// {account:<id>}, in Go's syntax and in Postgres's alike (searchVector).
const refExpr = `\{account:[^{}\s]+\}`

var refPattern = regexp.MustCompile(refExpr)

// refID is the account id of a reference refPattern matched.
func refID(ref string) string { return ref[len("{account:") : len(ref)-1] }

// searchText is a description as the full-text index reads it: with each
// reference replaced by a space (searchVector does the same on Postgres).
func searchText(desc string) string {
	if !strings.Contains(desc, "{account:") {
		return desc
	}
	return refPattern.ReplaceAllLiteralString(desc, " ")
}

// Mentions returns the ids of the accounts a stored description refers to,
// in order, each as often as it appears.
func Mentions(desc string) []string {
	var ids []string
	for _, m := range refPattern.FindAllString(desc, -1) {
		ids = append(ids, refID(m))
	}
	return ids
}

// Render replaces the {account:<id>} references of a stored description
// with name(id). The caller decides what a reader may see: a resolver that
// opens names for staff and the account itself, and returns the id (or
// "an account") for everyone else. A nil name leaves the description as
// stored.
func Render(desc string, name func(accountID string) string) string {
	if name == nil {
		return desc
	}
	return refPattern.ReplaceAllStringFunc(desc, func(m string) string { return name(refID(m)) })
}
