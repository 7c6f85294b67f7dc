package account

import (
	"net/mail"
	"strings"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
)

// Limits on free text. They keep events small and catch pasted garbage; they
// are generous enough for any real name or address.
const (
	maxName      = 200
	maxID        = 100
	maxBadge     = 50
	maxAddress   = 500
	maxReason    = 100
	maxClose     = 500
	maxEmail     = 254 // the longest address SMTP can carry
	minHousehold = 1
	maxHousehold = 30
)

// text, id and at are the domain's shared checks (see package domain).
func text(field, v string, minLen, maxLen int) (string, error) {
	return domain.Text(field, v, minLen, maxLen)
}

func id(field, v string) error { return domain.ID(field, v) }

func at(t time.Time) error { return domain.At(t) }

// email checks that v is one bare address ("ana@example.org", no display
// name) and returns it trimmed and in lower case.
func email(v string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return "", domain.Invalid("email", "is required")
	}
	if len(v) > maxEmail {
		return "", domain.Invalid("email", "must have at most %d characters", maxEmail)
	}
	addr, err := mail.ParseAddress(v)
	if err != nil || addr.Name != "" || addr.Address != v {
		return "", domain.Invalid("email", "must be an address such as name@example.org")
	}
	host := v[strings.LastIndexByte(v, '@')+1:]
	if !strings.Contains(host, ".") || strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") {
		return "", domain.Invalid("email", "must be an address such as name@example.org, with a full domain name")
	}
	return v, nil
}

// phone checks an optional international number and returns it compacted
// ("+44 20 7946-0958" -> "+442079460958"): "+", a non-zero digit, then 6 to
// 14 more digits, as E.164 allows.
func phone(v string) (string, error) {
	v = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, v)
	if v == "" {
		return "", nil
	}
	const hint = "must be an international number such as +442079460958"
	if len(v) < 8 || len(v) > 16 || v[0] != '+' || v[1] == '0' {
		return "", domain.Invalid("phone", hint)
	}
	for _, r := range v[1:] {
		if r < '0' || r > '9' {
			return "", domain.Invalid("phone", hint)
		}
	}
	return v, nil
}

// profile checks that p has the fields kind requires and no other, and
// returns it with its text trimmed.
func profile(kind Kind, p Profile) (Profile, error) {
	var out Profile
	var err error
	need := func(field, v string, maxLen int) string {
		if err == nil {
			v, err = text("profile."+field, v, 1, maxLen)
		}
		return v
	}
	switch kind {
	case Officer:
		out.BadgeNumber = need("badge_number", p.BadgeNumber, maxBadge)
		out.Department = need("department", p.Department, maxName)
	case Merchant:
		out.BusinessName = need("business_name", p.BusinessName, maxName)
		out.Address = need("address", p.Address, maxAddress)
	case Charity:
		out.RegistrationNumber = need("registration_number", p.RegistrationNumber, maxID)
	case Family:
		if p.HouseholdSize < minHousehold || p.HouseholdSize > maxHousehold {
			return Profile{}, domain.Invalid("profile.household_size",
				"must be between %d and %d people, not %d", minHousehold, maxHousehold, p.HouseholdSize)
		}
		out.HouseholdSize = p.HouseholdSize
		if err := id("profile.sponsor_charity_id", p.SponsorCharityID); err != nil {
			return Profile{}, err
		}
		out.SponsorCharityID = p.SponsorCharityID
	}
	if err != nil {
		return Profile{}, err
	}
	return out, foreign(kind, p)
}

// foreign rejects profile fields that belong to another kind, so that a
// client learns it sent the wrong form instead of having data dropped.
func foreign(kind Kind, p Profile) error {
	fields := []struct {
		set   bool
		owner Kind
		field string
	}{
		{p.BadgeNumber != "", Officer, "badge_number"},
		{p.Department != "", Officer, "department"},
		{p.BusinessName != "", Merchant, "business_name"},
		{p.Address != "", Merchant, "address"},
		{p.RegistrationNumber != "", Charity, "registration_number"},
		{p.HouseholdSize != 0, Family, "household_size"},
		{p.SponsorCharityID != "", Family, "sponsor_charity_id"},
	}
	for _, f := range fields {
		if f.set && f.owner != kind {
			return domain.Invalid("profile."+f.field, "only %s accounts have this field, not %s accounts", f.owner, kind)
		}
	}
	return nil
}
