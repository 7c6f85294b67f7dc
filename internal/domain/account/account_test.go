package account_test

import (
	"time"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/domaintest"
)

// spec runs Given/When/Then scenarios on the account aggregate.
var spec = domaintest.Spec[account.State]{
	Initial: account.Initial,
	Evolve:  account.Evolve,
	Decide:  account.Decide,
}

var (
	t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
	t2 = t0.Add(2 * time.Hour)
)

// profiles holds a valid profile for each kind.
var profiles = map[account.Kind]account.Profile{
	account.Civilian: {},
	account.Officer:  {BadgeNumber: "B-1024", Department: "North precinct"},
	account.Merchant: {BusinessName: "Corner Bakery", Address: "1 High Street, Springfield"},
	account.Charity:  {RegistrationNumber: "CH-778812"},
	account.Family:   {HouseholdSize: 4, SponsorCharityID: "charity-1"},
}

// openCmd returns a valid Open command for kind.
func openCmd(kind account.Kind) account.Open {
	return account.Open{
		ID:                  "acc-1",
		Kind:                kind,
		Name:                "Ana Lima",
		Email:               "ana@example.org",
		Phone:               "+442079460958",
		Profile:             profiles[kind],
		CredentialsAssigned: true,
		At:                  t0,
	}
}

// opened returns the event a valid Open of kind produces.
func opened(kind account.Kind) account.AccountOpened {
	return account.AccountOpened{
		AccountID:           "acc-1",
		Kind:                kind,
		Status:              kind.InitialStatus(),
		Name:                "Ana Lima",
		Email:               "ana@example.org",
		Phone:               "+442079460958",
		Profile:             profiles[kind],
		CredentialsAssigned: true,
		OpenedAt:            t0,
	}
}

// verified is the event that makes a pending account active.
var verified = account.AccountVerified{AccountID: "acc-1", VerifiedBy: "staff-1", VerifiedAt: t1}

// closed is the event that closes the account.
var closed = account.AccountClosed{AccountID: "acc-1", Reason: "moved away", ClosedAt: t2}

// credited returns a credit entry of points leaving the balance at balance.
func credited(points, balance int64) account.PointsCredited {
	return account.PointsCredited{AccountID: "acc-1", Points: points, Reason: "interaction", TxID: "tx-1", Balance: balance, CreditedAt: t1}
}
