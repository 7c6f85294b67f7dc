package account_test

import (
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
)

func TestVerify(t *testing.T) {
	ok := account.Verify{By: "staff-1", At: t1}
	for _, kind := range []account.Kind{account.Officer, account.Charity, account.Family} {
		t.Run(string(kind), func(t *testing.T) {
			state := spec.Given(t, opened(kind)).When(ok).Then(verified)
			if state.Status != account.Active || state.VerifiedBy != "staff-1" || !state.VerifiedAt.Equal(t1) {
				t.Errorf("state after verifying = %+v", state)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	ok := account.Verify{By: "staff-1", At: t1}
	tests := []struct {
		name  string
		given []any
		cmd   account.Verify
		code  string
		field string
	}{
		{"no account", nil, ok, domain.CodeNotFound, ""},
		{"no verifier", []any{opened(account.Officer)}, account.Verify{At: t1}, domain.CodeInvalid, "by"},
		{"no time", []any{opened(account.Officer)}, account.Verify{By: "staff-1"}, domain.CodeInvalid, "at"},
		{"already verified", []any{opened(account.Officer), verified}, ok, domain.CodeConflict, ""},
		{"civilian", []any{opened(account.Civilian)}, ok, domain.CodeConflict, ""},
		{"merchant", []any{opened(account.Merchant)}, ok, domain.CodeConflict, ""},
		{"closed", []any{opened(account.Charity), closed}, ok, domain.CodeAccountClosed, ""},
		{"itself", []any{opened(account.Family)}, account.Verify{By: "acc-1", At: t1}, domain.CodeForbidden, "by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec.Given(t, tt.given...).When(tt.cmd).ThenError(tt.code, tt.field)
		})
	}
}

func TestUpdateProfile(t *testing.T) {
	cmd := account.UpdateProfile{
		Name:    " Ana Souza ",
		Phone:   "",
		Profile: account.Profile{BadgeNumber: "B-2048", Department: "South precinct"},
		At:      t1,
	}
	want := account.ProfileUpdated{
		AccountID: "acc-1",
		Name:      "Ana Souza",
		Profile:   account.Profile{BadgeNumber: "B-2048", Department: "South precinct"},
		UpdatedAt: t1,
	}
	state := spec.Given(t, opened(account.Officer)).When(cmd).Then(want)
	if state.Name != "Ana Souza" || state.Phone != "" || state.Profile.BadgeNumber != "B-2048" ||
		state.Status != account.Pending || state.Email != "ana@example.org" {
		t.Errorf("state after update = %+v", state)
	}

	t.Run("unchanged writes nothing", func(t *testing.T) {
		same := account.UpdateProfile{Name: "Ana Lima", Phone: "+44 20 7946 0958", Profile: profiles[account.Officer], At: t1}
		spec.Given(t, opened(account.Officer)).When(same).Then()
	})
}

func TestUpdateProfileRejects(t *testing.T) {
	valid := func(kind account.Kind) account.UpdateProfile {
		return account.UpdateProfile{Name: "Ana", Profile: profiles[kind], At: t1}
	}
	tests := []struct {
		name  string
		kind  account.Kind
		given []any
		edit  func(*account.UpdateProfile)
		code  string
		field string
	}{
		{"no account", account.Civilian, nil, func(*account.UpdateProfile) {}, domain.CodeNotFound, ""},
		{"closed", account.Civilian, []any{opened(account.Civilian), closed}, func(*account.UpdateProfile) {}, domain.CodeAccountClosed, ""},
		{"no name", account.Civilian, []any{opened(account.Civilian)}, func(c *account.UpdateProfile) { c.Name = "" }, domain.CodeInvalid, "name"},
		{"bad phone", account.Civilian, []any{opened(account.Civilian)}, func(c *account.UpdateProfile) { c.Phone = "123" }, domain.CodeInvalid, "phone"},
		{"no time", account.Civilian, []any{opened(account.Civilian)}, func(c *account.UpdateProfile) { c.At = time.Time{} }, domain.CodeInvalid, "at"},
		{"officer drops badge", account.Officer, []any{opened(account.Officer)}, func(c *account.UpdateProfile) { c.Profile.BadgeNumber = "" }, domain.CodeInvalid, "profile.badge_number"},
		{"family of 31", account.Family, []any{opened(account.Family)}, func(c *account.UpdateProfile) { c.Profile.HouseholdSize = 31 }, domain.CodeInvalid, "profile.household_size"},
		{"kind cannot change", account.Civilian, []any{opened(account.Civilian)}, func(c *account.UpdateProfile) { c.Profile = profiles[account.Merchant] }, domain.CodeInvalid, "profile.business_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := valid(tt.kind)
			tt.edit(&cmd)
			spec.Given(t, tt.given...).When(cmd).ThenError(tt.code, tt.field)
		})
	}
}

func TestClose(t *testing.T) {
	given := []any{opened(account.Civilian), credited(50, 50)}
	state := spec.Given(t, given...).When(account.Close{Reason: " moved away ", At: t2}).Then(closed)
	if state.Status != account.Closed || state.Balance != 50 || !state.ClosedAt.Equal(t2) {
		t.Errorf("state after closing = %+v; the balance must stay", state)
	}

	t.Run("pending account", func(t *testing.T) {
		spec.Given(t, opened(account.Officer)).When(account.Close{At: t2}).
			Then(account.AccountClosed{AccountID: "acc-1", ClosedAt: t2})
	})
}

func TestCloseRejects(t *testing.T) {
	long := make([]byte, 501)
	for i := range long {
		long[i] = 'x'
	}
	tests := []struct {
		name  string
		given []any
		cmd   account.Close
		code  string
		field string
	}{
		{"no account", nil, account.Close{At: t2}, domain.CodeNotFound, ""},
		{"already closed", []any{opened(account.Civilian), closed}, account.Close{At: t2}, domain.CodeConflict, ""},
		{"reason too long", []any{opened(account.Civilian)}, account.Close{Reason: string(long), At: t2}, domain.CodeInvalid, "reason"},
		{"no time", []any{opened(account.Civilian)}, account.Close{}, domain.CodeInvalid, "at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec.Given(t, tt.given...).When(tt.cmd).ThenError(tt.code, tt.field)
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	for _, state := range []account.State{account.Initial(), account.Evolve(account.Initial(), opened(account.Civilian))} {
		events, err := account.Decide(state, &account.Close{At: t2})
		if err == nil || events != nil || domain.As(err) != nil {
			t.Errorf("Decide(pointer command) = %v, %v; want a plain programming error", events, err)
		}
	}
}
