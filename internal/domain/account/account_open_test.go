package account_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
)

func TestOpenEachKind(t *testing.T) {
	for _, kind := range account.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			state := spec.Given(t).When(openCmd(kind)).Then(opened(kind))
			if state.Status != kind.InitialStatus() || state.Balance != 0 || state.ID != "acc-1" {
				t.Errorf("state after opening = %+v", state)
			}
		})
	}
}

func TestOpenStatusByKind(t *testing.T) {
	want := map[account.Kind]account.Status{
		account.Civilian: account.Active,
		account.Merchant: account.Active,
		account.Officer:  account.Pending,
		account.Charity:  account.Pending,
		account.Family:   account.Pending,
	}
	for kind, status := range want {
		if got := kind.InitialStatus(); got != status {
			t.Errorf("%s opens %s, want %s", kind, got, status)
		}
	}
}

func TestOpenNormalises(t *testing.T) {
	cmd := openCmd(account.Merchant)
	cmd.Name = "  Ana Lima "
	cmd.Email = " Ana@Example.ORG "
	cmd.Phone = "+44 (20) 7946-0958"
	cmd.Profile.BusinessName = " Corner Bakery"
	cmd.CredentialsAssigned = false

	want := opened(account.Merchant)
	want.CredentialsAssigned = false
	spec.Given(t).When(cmd).Then(want)

	cmd.Phone = ""
	want.Phone = ""
	spec.Given(t).When(cmd).Then(want)
}

func TestOpenRejects(t *testing.T) {
	tests := []struct {
		name  string
		kind  account.Kind
		edit  func(*account.Open)
		field string
	}{
		{"no id", account.Civilian, func(c *account.Open) { c.ID = "" }, "id"},
		{"id with space", account.Civilian, func(c *account.Open) { c.ID = "acc 1" }, "id"},
		{"id too long", account.Civilian, func(c *account.Open) { c.ID = strings.Repeat("x", 101) }, "id"},
		{"no kind", account.Civilian, func(c *account.Open) { c.Kind = "" }, "kind"},
		{"no name", account.Civilian, func(c *account.Open) { c.Name = "" }, "name"},
		{"blank name", account.Civilian, func(c *account.Open) { c.Name = "   " }, "name"},
		{"name too long", account.Civilian, func(c *account.Open) { c.Name = strings.Repeat("é", 201) }, "name"},
		{"name with line break", account.Civilian, func(c *account.Open) { c.Name = "Ana\nLima" }, "name"},
		{"name not UTF-8", account.Civilian, func(c *account.Open) { c.Name = "Ana \xff" }, "name"},
		{"no email", account.Civilian, func(c *account.Open) { c.Email = "" }, "email"},
		{"email without at", account.Civilian, func(c *account.Open) { c.Email = "ana.example.org" }, "email"},
		{"email with display name", account.Civilian, func(c *account.Open) { c.Email = "Ana <ana@example.org>" }, "email"},
		{"email without domain dot", account.Civilian, func(c *account.Open) { c.Email = "ana@localhost" }, "email"},
		{"two emails", account.Civilian, func(c *account.Open) { c.Email = "a@example.org, b@example.org" }, "email"},
		{"email too long", account.Civilian, func(c *account.Open) { c.Email = strings.Repeat("a", 250) + "@example.org" }, "email"},
		{"phone without plus", account.Civilian, func(c *account.Open) { c.Phone = "02079460958" }, "phone"},
		{"phone with letters", account.Civilian, func(c *account.Open) { c.Phone = "+44207946CALL" }, "phone"},
		{"phone too short", account.Civilian, func(c *account.Open) { c.Phone = "+12345" }, "phone"},
		{"phone too long", account.Civilian, func(c *account.Open) { c.Phone = "+1234567890123456" }, "phone"},
		{"phone country code 0", account.Civilian, func(c *account.Open) { c.Phone = "+0442079460958" }, "phone"},
		{"no time", account.Civilian, func(c *account.Open) { c.At = time.Time{} }, "at"},
		{"civilian with badge", account.Civilian, func(c *account.Open) { c.Profile.BadgeNumber = "B-1" }, "profile.badge_number"},
		{"officer without badge", account.Officer, func(c *account.Open) { c.Profile.BadgeNumber = "" }, "profile.badge_number"},
		{"officer badge too long", account.Officer, func(c *account.Open) { c.Profile.BadgeNumber = strings.Repeat("9", 51) }, "profile.badge_number"},
		{"officer without department", account.Officer, func(c *account.Open) { c.Profile.Department = " " }, "profile.department"},
		{"officer with address", account.Officer, func(c *account.Open) { c.Profile.Address = "1 High Street" }, "profile.address"},
		{"merchant without business name", account.Merchant, func(c *account.Open) { c.Profile.BusinessName = "" }, "profile.business_name"},
		{"merchant without address", account.Merchant, func(c *account.Open) { c.Profile.Address = "" }, "profile.address"},
		{"merchant address too long", account.Merchant, func(c *account.Open) { c.Profile.Address = strings.Repeat("a", 501) }, "profile.address"},
		{"merchant with department", account.Merchant, func(c *account.Open) { c.Profile.Department = "Sales" }, "profile.department"},
		{"charity without registration", account.Charity, func(c *account.Open) { c.Profile.RegistrationNumber = "" }, "profile.registration_number"},
		{"charity with household", account.Charity, func(c *account.Open) { c.Profile.HouseholdSize = 3 }, "profile.household_size"},
		{"family of 0", account.Family, func(c *account.Open) { c.Profile.HouseholdSize = 0 }, "profile.household_size"},
		{"family of -1", account.Family, func(c *account.Open) { c.Profile.HouseholdSize = -1 }, "profile.household_size"},
		{"family of 31", account.Family, func(c *account.Open) { c.Profile.HouseholdSize = 31 }, "profile.household_size"},
		{"family without sponsor", account.Family, func(c *account.Open) { c.Profile.SponsorCharityID = "" }, "profile.sponsor_charity_id"},
		{"family with registration", account.Family, func(c *account.Open) { c.Profile.RegistrationNumber = "CH-1" }, "profile.registration_number"},
		{"civilian with sponsor", account.Civilian, func(c *account.Open) { c.Profile.SponsorCharityID = "charity-1" }, "profile.sponsor_charity_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := openCmd(tt.kind)
			tt.edit(&cmd)
			spec.Given(t).When(cmd).ThenError(domain.CodeInvalid, tt.field)
		})
	}
}

func TestOpenBoundaries(t *testing.T) {
	tests := map[string]func(*account.Open){
		"name of 1":      func(c *account.Open) { c.Name = "A" },
		"name of 200":    func(c *account.Open) { c.Name = strings.Repeat("é", 200) },
		"family of 1":    func(c *account.Open) { c.Profile.HouseholdSize = 1 },
		"family of 30":   func(c *account.Open) { c.Profile.HouseholdSize = 30 },
		"shortest phone": func(c *account.Open) { c.Phone = "+1234567" },
		"longest phone":  func(c *account.Open) { c.Phone = "+123456789012345" },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			cmd := openCmd(account.Family)
			edit(&cmd)
			events, err := account.Decide(account.Initial(), cmd)
			if err != nil || len(events) != 1 {
				t.Fatalf("Decide = %v, %v; want one event", events, err)
			}
		})
	}
}

func TestOpenTwice(t *testing.T) {
	spec.Given(t, opened(account.Civilian)).When(openCmd(account.Civilian)).ThenError(domain.CodeConflict, "id")
}
