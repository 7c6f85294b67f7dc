package readmodel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/rules"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/service/servicetest"
)

// issuer runs the i-th command of a benchmark under call and returns the
// id of the row it makes in the users read model: an account's or a
// transaction's.
type issuer func(ctx context.Context, i int, call service.Call) (string, error)

// signUps issues every command as a civilian's sign-up: the most work in
// its own append (an email claim, a password hash and a sealed profile
// besides its event), and a single event for the relay and the read
// models behind it.
func signUps(svc *service.Service) issuer {
	return func(ctx context.Context, i int, call service.Call) (string, error) {
		out, err := svc.OpenAccount(ctx, call, service.OpenAccount{Kind: account.Civilian,
			Name: "Bench Civilian", Email: fmt.Sprintf("bench-%d@example.org", i), Password: "s3cret-enough"})
		if err != nil {
			return "", err
		}
		var ref service.AccountRef
		if err := json.Unmarshal(out.Result.Body, &ref); err != nil {
			return "", err
		}
		return ref.ID, nil
	}
}

// mixSequence is the command mix of `bluepoint bench`'s workload 1: 50%
// interactions, 30% donations, 10% redemptions, 10% sign-ups.
var mixSequence = [10]string{"interaction", "donation", "interaction", "redemption", "interaction",
	"donation", "interaction", "sign-up", "interaction", "donation"}

// mixClients is how many clients share the mix. Each runs its commands one
// at a time, as a person does, so that no two commands of one client race
// for its account's version; 63 shares no factor with the mix's 10, so
// each client runs every kind of command in turn.
const mixClients = 63

// mixClient is a civilian with an officer to meet, a charity to give to
// and a merchant's product to redeem, all its own, as in `bluepoint bench`.
type mixClient struct {
	mu                sync.Mutex // one command at a time
	civilian, officer service.Actor
	charity, merchant string
	sku               string
}

// newMix prepares the clients of the mix (outside the measured time) and
// returns the issuer that runs command i as mixSequence[i%10] for client
// i%mixClients. Every civilian starts with the points of one interaction,
// and each donation and redemption spends one point, so that no command is
// refused for want of points whatever order a client's commands run in.
func newMix(tb testing.TB, ctx context.Context, svc *service.Service) issuer {
	tb.Helper()
	staff := service.Call{Actor: servicetest.Staff(tb, svc, "Bench Staff", "bench-staff@example.org")}
	// No daily cap, as `bluepoint bench` sets it: a pair meets many times.
	if _, err := svc.ChangeRule(ctx, staff, rules.KindInteraction, map[string]int64{"civilian": 10, "officer": 5}, ""); err != nil {
		tb.Fatalf("interaction rule: %v", err)
	}
	clients := make([]*mixClient, mixClients)
	var g errgroup.Group
	g.SetLimit(8)
	for i := range clients {
		g.Go(func() error {
			c, err := newMixClient(ctx, svc, staff, i)
			clients[i] = c
			return err
		})
	}
	if err := g.Wait(); err != nil {
		tb.Fatalf("prepare the mix's clients: %v", err)
	}
	signUp := signUps(svc)
	return func(ctx context.Context, i int, call service.Call) (string, error) {
		kind := mixSequence[i%len(mixSequence)]
		if kind == "sign-up" {
			return signUp(ctx, i, call)
		}
		c := clients[i%mixClients]
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.run(ctx, svc, kind, call)
	}
}

func newMixClient(ctx context.Context, svc *service.Service, staff service.Call, i int) (*mixClient, error) {
	open := func(kind account.Kind, profile account.Profile) (service.Actor, error) {
		out, err := svc.OpenAccount(ctx, service.Call{}, service.OpenAccount{Kind: kind, Name: "Bench " + string(kind),
			Email: fmt.Sprintf("mix-%s-%d@example.org", kind, i), Password: "s3cret-enough", Profile: profile})
		if err != nil {
			return service.Actor{}, fmt.Errorf("open a %s: %w", kind, err)
		}
		var ref service.AccountRef
		if err := json.Unmarshal(out.Result.Body, &ref); err != nil {
			return service.Actor{}, err
		}
		return service.Actor{ID: ref.ID, Kind: kind}, nil
	}
	c := &mixClient{sku: fmt.Sprintf("MIX-%d", i)}
	var err error
	if c.civilian, err = open(account.Civilian, account.Profile{}); err != nil {
		return nil, err
	}
	if c.officer, err = open(account.Officer, account.Profile{BadgeNumber: fmt.Sprintf("B-%d", i), Department: "Bench"}); err != nil {
		return nil, err
	}
	charity, err := open(account.Charity, account.Profile{RegistrationNumber: fmt.Sprintf("RC-%d", i)})
	if err != nil {
		return nil, err
	}
	merchant, err := open(account.Merchant, account.Profile{BusinessName: "Bench shop", Address: "1 Main St"})
	if err != nil {
		return nil, err
	}
	c.charity, c.merchant = charity.ID, merchant.ID
	for _, id := range []string{c.officer.ID, c.charity} {
		if _, err := svc.VerifyAccount(ctx, staff, id); err != nil {
			return nil, fmt.Errorf("verify %s: %w", id, err)
		}
	}
	if _, err := svc.ListProduct(ctx, service.Call{Actor: merchant}, merchant.ID, c.sku, "Bench mug", 1, 1_000_000); err != nil {
		return nil, fmt.Errorf("list a product: %w", err)
	}
	if _, err := c.run(ctx, svc, "interaction", service.Call{}); err != nil {
		return nil, fmt.Errorf("first interaction: %w", err)
	}
	return c, nil
}

// run runs one command of kind and returns its transaction's id. An
// interaction's encounter token is fetched first, as a civilian shows it
// before the officer records the meeting; the command is the recording.
func (c *mixClient) run(ctx context.Context, svc *service.Service, kind string, call service.Call) (string, error) {
	var (
		out *command.Outcome
		err error
	)
	switch kind {
	case "interaction":
		tok, terr := svc.RequestEncounter(ctx, service.Call{Actor: c.civilian, TraceID: call.TraceID})
		if terr != nil {
			return "", fmt.Errorf("encounter token: %w", terr)
		}
		call.Actor = c.officer
		out, err = svc.RecordInteraction(ctx, call, tok.Token)
	case "donation":
		call.Actor = c.civilian
		out, err = svc.Donate(ctx, call, c.charity, 1, "")
	case "redemption":
		call.Actor = c.civilian
		out, err = svc.Redeem(ctx, call, c.merchant, c.sku, 1, 1)
	default:
		return "", fmt.Errorf("no command %q in the mix", kind)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", kind, err)
	}
	var res struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out.Result.Body, &res); err != nil {
		return "", fmt.Errorf("%s: %w", kind, err)
	}
	return res.ID, nil
}
