package service_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"sync"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/product"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/service"
)

func actorOf(r service.AccountRef) service.Actor { return service.Actor{ID: r.ID, Kind: r.Kind} }

func (e *env) balance(t *testing.T, id string) int64 {
	t.Helper()
	st, err := e.svc.Account(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return st.Balance
}

func decodeBody[T any](t *testing.T, out *command.Outcome) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(out.Result.Body, &v); err != nil {
		t.Fatalf("decode %s: %v", out.Result.Body, err)
	}
	return v
}

// interact has civ request a token and off submit it.
func (e *env) interact(t *testing.T, civ, off service.Actor) (*command.Outcome, error) {
	t.Helper()
	tok, err := e.svc.RequestEncounter(ctxT(t), service.Call{Actor: civ})
	if err != nil {
		t.Fatalf("request encounter: %v", err)
	}
	return e.svc.RecordInteraction(ctxT(t), service.Call{Actor: off}, tok.Token)
}

func (e *env) officer(t *testing.T, email string) service.Actor {
	t.Helper()
	r := e.open(t, account.Officer, email)
	e.verify(t, r.ID)
	return actorOf(r)
}

func TestInteractionThroughAToken(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		civ := actorOf(e.open(t, account.Civilian, "civ@example.org"))
		off := e.officer(t, "off@example.org")
		tok, err := e.svc.RequestEncounter(ctxT(t), service.Call{Actor: civ})
		if err != nil {
			t.Fatal(err)
		}
		img, err := base64.StdEncoding.DecodeString(tok.QRPNG)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(img)); err != nil {
			t.Fatalf("qr_png is not a PNG: %v", err)
		}
		if !tok.ExpiresAt.After(e.clock.Now().Add(4 * time.Minute)) {
			t.Fatalf("token expires at %s: want about 5 minutes", tok.ExpiresAt)
		}
		_, err = e.svc.RecordInteraction(ctxT(t), service.Call{Actor: civ}, tok.Token)
		wantDomain(t, err, domain.CodeForbidden, "")
		out, err := e.svc.RecordInteraction(ctxT(t), service.Call{Actor: off}, tok.Token)
		if err != nil {
			t.Fatal(err)
		}
		res := decodeBody[service.InteractionResult](t, out)
		if res.CivilianID != civ.ID || res.Points["civilian"] != 10 || res.Points["officer"] != 5 || res.RuleVersion != 1 {
			t.Fatalf("interaction %+v", res)
		}
		if e.balance(t, civ.ID) != 10 || e.balance(t, off.ID) != 5 {
			t.Fatalf("balances %d/%d, want 10/5", e.balance(t, civ.ID), e.balance(t, off.ID))
		}
		_, err = e.svc.RecordInteraction(ctxT(t), service.Call{Actor: off}, tok.Token)
		wantDomain(t, err, domain.CodeConflict, "token")
		forged := []byte(tok.Token)
		forged[10] ^= 1
		_, err = e.svc.RecordInteraction(ctxT(t), service.Call{Actor: off}, string(forged))
		wantDomain(t, err, domain.CodeInvalid, "token")
		late, _ := e.svc.RequestEncounter(ctxT(t), service.Call{Actor: civ})
		e.clock.Advance(6 * time.Minute)
		_, err = e.svc.RecordInteraction(ctxT(t), service.Call{Actor: off}, late.Token)
		wantDomain(t, err, domain.CodeInvalid, "token")
		// The default rule allows three interactions per pair per day.
		for i := 2; i <= 3; i++ {
			if _, err := e.interact(t, civ, off); err != nil {
				t.Fatalf("interaction %d: %v", i, err)
			}
		}
		_, err = e.interact(t, civ, off)
		wantDomain(t, err, transfer.CodeRuleRefused, "")
		e.clock.Advance(24 * time.Hour)
		if _, err := e.interact(t, civ, off); err != nil {
			t.Fatalf("the next day: %v", err)
		}
		if e.balance(t, civ.ID) != 40 {
			t.Fatalf("civilian balance %d, want 40", e.balance(t, civ.ID))
		}
	})
}

// A rule change prices what comes after it and leaves earlier transactions
// with the version that priced them.
func TestRuleChangeNeverRewritesHistory(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		civ := actorOf(e.open(t, account.Civilian, "civ@example.org"))
		off := e.officer(t, "off@example.org")
		first, err := e.interact(t, civ, off)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.ChangeRule(ctxT(t), service.Call{Actor: civ}, "interaction", map[string]int64{"civilian": 1, "officer": 1}, "")
		wantDomain(t, err, domain.CodeForbidden, "")
		_, err = e.svc.ChangeRule(ctxT(t), service.Call{Actor: e.staff}, "interaction", map[string]int64{"civilian": 1, "officer": 1}, "counters.pair_today <")
		wantDomain(t, err, domain.CodeInvalid, "condition")
		_, err = e.svc.ChangeRule(ctxT(t), service.Call{Actor: e.staff}, "interaction", map[string]int64{"civilian": 1}, "")
		wantDomain(t, err, domain.CodeInvalid, "points.officer")
		changed, err := e.svc.ChangeRule(ctxT(t), service.Call{Actor: e.staff}, "interaction", map[string]int64{"civilian": 20, "officer": 7}, "counters.pair_today < 5")
		if err != nil {
			t.Fatal(err)
		}
		if v := decodeBody[map[string]any](t, changed)["version"]; v != float64(2) {
			t.Fatalf("new rule version %v, want 2", v)
		}
		second, err := e.interact(t, civ, off)
		if err != nil {
			t.Fatal(err)
		}
		r1, r2 := decodeBody[service.InteractionResult](t, first), decodeBody[service.InteractionResult](t, second)
		if r1.RuleVersion != 1 || r2.RuleVersion != 2 || r2.Points["civilian"] != 20 {
			t.Fatalf("versions %d then %d, points %v", r1.RuleVersion, r2.RuleVersion, r2.Points)
		}
		// The first interaction's event still says version 1.
		evs, _ := e.store.ReadStream(ctxT(t), &eventstore.ReadStreamParams{StreamID: transfer.PairStreamID(civ.ID, off.ID)})
		var rec transfer.InteractionRecorded
		_ = json.Unmarshal(evs[0].Data, &rec)
		if rec.RuleVersion != 1 || rec.CivilianPoints != 10 {
			t.Fatalf("history changed: %+v", rec)
		}
		if e.balance(t, civ.ID) != 30 {
			t.Fatalf("balance %d, want 10 + 20", e.balance(t, civ.ID))
		}
	})
}

// richCivilian gives a civilian points through a generous interaction rule.
func (e *env) richCivilian(t *testing.T, email string, points int64) service.Actor {
	t.Helper()
	if _, err := e.svc.ChangeRule(ctxT(t), service.Call{Actor: e.staff}, "interaction", map[string]int64{"civilian": points, "officer": 1}, ""); err != nil {
		t.Fatal(err)
	}
	civ := actorOf(e.open(t, account.Civilian, email))
	if _, err := e.interact(t, civ, e.officer(t, "giver-"+email)); err != nil {
		t.Fatal(err)
	}
	return civ
}

func TestDonationsAndGiveaways(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		civ := e.richCivilian(t, "donor@example.org", 100)
		charity := e.open(t, account.Charity, "charity@example.org")
		_, err := e.svc.Donate(ctxT(t), service.Call{Actor: civ}, charity.ID, 10, "")
		wantDomain(t, err, domain.CodeAccountPending, "to")
		e.verify(t, charity.ID)
		out, err := e.svc.Donate(ctxT(t), service.Call{Actor: civ}, charity.ID, 50, "for the shelter")
		if err != nil {
			t.Fatal(err)
		}
		if r := decodeBody[service.TransferResult](t, out); r.Bonus != 1 || r.Points != 50 || r.RuleVersion != 1 {
			t.Fatalf("donation %+v", r)
		}
		small, err := e.svc.Donate(ctxT(t), service.Call{Actor: civ}, charity.ID, 5, "")
		if err != nil {
			t.Fatalf("a donation under the bonus threshold still goes ahead: %v", err)
		}
		if r := decodeBody[service.TransferResult](t, small); r.Bonus != 0 {
			t.Fatalf("small donation earned bonus %d", r.Bonus)
		}
		if got := e.balance(t, civ.ID); got != 100-50+1-5 {
			t.Fatalf("donor balance %d", got)
		}
		if got := e.balance(t, charity.ID); got != 55 {
			t.Fatalf("charity balance %d", got)
		}
		_, err = e.svc.Donate(ctxT(t), service.Call{Actor: civ}, charity.ID, 1000, "")
		wantDomain(t, err, domain.CodeInsufficientFunds, "points")
		// Officers give to officers.
		a, b := e.officer(t, "a@example.org"), e.officer(t, "b@example.org")
		_, err = e.svc.Give(ctxT(t), service.Call{Actor: civ}, b.ID, 1)
		wantDomain(t, err, domain.CodeForbidden, "")
		_, err = e.svc.Give(ctxT(t), service.Call{Actor: a}, b.ID, 1)
		wantDomain(t, err, domain.CodeInsufficientFunds, "points")
	})
}

func TestProductsAndRedemption(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		merchant := actorOf(e.open(t, account.Merchant, "shop@example.org"))
		civ := e.richCivilian(t, "buyer@example.org", 100)
		me := service.Call{Actor: merchant}
		_, err := e.svc.ListProduct(ctxT(t), service.Call{Actor: civ}, merchant.ID, "MUG-1", "Mug", 30, 2)
		wantDomain(t, err, domain.CodeForbidden, "")
		if _, err := e.svc.ListProduct(ctxT(t), me, merchant.ID, "MUG-1", "Mug", 30, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Restock(ctxT(t), me, merchant.ID, "MUG-1", 1); err != nil {
			t.Fatal(err)
		}
		out, err := e.svc.Redeem(ctxT(t), service.Call{Actor: civ}, merchant.ID, "MUG-1", 2, 30)
		if err != nil {
			t.Fatal(err)
		}
		r := decodeBody[service.RedemptionResult](t, out)
		if r.Points != 60 || len(r.VoucherCode) != 19 {
			t.Fatalf("redemption %+v", r)
		}
		_, err = e.svc.Redeem(ctxT(t), service.Call{Actor: civ}, merchant.ID, "MUG-1", 2, 30)
		wantDomain(t, err, product.CodeInsufficientStock, "quantity")
		if _, err := e.svc.Reprice(ctxT(t), me, merchant.ID, "MUG-1", 35); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Redeem(ctxT(t), service.Call{Actor: civ}, merchant.ID, "MUG-1", 1, 30)
		wantDomain(t, err, domain.CodeConflict, "expected_price")
		p, err := e.svc.Product(ctxT(t), merchant.ID, "MUG-1")
		if err != nil || p.Stock != 1 || p.UnitsSold != 2 || p.PointsEarned != 60 {
			t.Fatalf("product %+v, %v", p, err)
		}
		if e.balance(t, civ.ID) != 40 || e.balance(t, merchant.ID) != 60 {
			t.Fatalf("balances %d/%d, want 40/60", e.balance(t, civ.ID), e.balance(t, merchant.ID))
		}
		if _, err := e.svc.Delist(ctxT(t), me, merchant.ID, "MUG-1"); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Redeem(ctxT(t), service.Call{Actor: civ}, merchant.ID, "MUG-1", 1, 0)
		if domain.As(err) == nil {
			t.Fatalf("redeeming a delisted product: %v", err)
		}
	})
}

// A product update that changes the price and adds stock is one append: a
// refused part leaves the other undone too.
func TestUpdateProductIsAtomic(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		merchant := actorOf(e.open(t, account.Merchant, "shop@example.org"))
		me := service.Call{Actor: merchant}
		if _, err := e.svc.ListProduct(ctxT(t), me, merchant.ID, "MUG-1", "Mug", 30, 999_990); err != nil {
			t.Fatal(err)
		}
		price, tooMuch, some := int64(40), int64(11), int64(10)
		_, err := e.svc.UpdateProduct(ctxT(t), me, merchant.ID, "MUG-1", &price, &tooMuch)
		wantDomain(t, err, domain.CodeInvalid, "add_stock")
		if p, err := e.svc.Product(ctxT(t), merchant.ID, "MUG-1"); err != nil || p.PricePoints != 30 || p.Stock != 999_990 {
			t.Fatalf("after a refused update: %+v, %v; want the price and stock unchanged", p, err)
		}
		out, err := e.svc.UpdateProduct(ctxT(t), me, merchant.ID, "MUG-1", &price, &some)
		if err != nil {
			t.Fatal(err)
		}
		if v := decodeBody[service.ProductView](t, out); v.PricePoints != 40 || v.Stock != 1_000_000 {
			t.Fatalf("update answered %+v", v)
		}
		if p, err := e.svc.Product(ctxT(t), merchant.ID, "MUG-1"); err != nil || p.PricePoints != 40 || p.Stock != 1_000_000 {
			t.Fatalf("after the update: %+v, %v", p, err)
		}
		_, err = e.svc.UpdateProduct(ctxT(t), me, merchant.ID, "MUG-1", nil, nil)
		wantDomain(t, err, domain.CodeInvalid, "body")
	})
}

// 100 spends race on one account: the balance never goes negative, no
// update is lost, and points are conserved.
func TestConcurrentSpendsOnOneAccount(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		civ := e.richCivilian(t, "spender@example.org", 500)
		charity := e.open(t, account.Charity, "charity@example.org")
		e.verify(t, charity.ID)
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			ok, poor int
			bonuses  int64
		)
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := e.svc.Donate(ctxT(t), service.Call{Actor: civ}, charity.ID, 10, "")
				mu.Lock()
				defer mu.Unlock()
				if de := domain.As(err); de != nil && de.Code == domain.CodeInsufficientFunds {
					poor++
					return
				}
				if err != nil {
					t.Errorf("donate: %v", err)
					return
				}
				ok++
				bonuses += decodeBody[service.TransferResult](t, out).Bonus
			}()
		}
		wg.Wait()
		donor, recipient := e.balance(t, civ.ID), e.balance(t, charity.ID)
		if donor < 0 || ok+poor != 100 || poor == 0 {
			t.Fatalf("donor %d after %d donations and %d refusals", donor, ok, poor)
		}
		if recipient != int64(ok)*10 || donor != 500-int64(ok)*10+bonuses {
			t.Fatalf("donor %d, charity %d after %d donations with %d bonus: points not conserved", donor, recipient, ok, bonuses)
		}
	})
}

// TestEncounterRetryGetsTheSameToken: with an idempotency key the token is
// the answer kept under it; the same key for another caller is another key.
func TestEncounterRetryGetsTheSameToken(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		civ := actorOf(e.open(t, account.Civilian, "civ@example.org"))
		call := service.Call{Actor: civ, IdempotencyKey: civ.ID + ":enc-1", Fingerprint: "request-encounter"}
		first, err := e.svc.RequestEncounter(ctxT(t), call)
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.svc.RequestEncounter(ctxT(t), call)
		if err != nil {
			t.Fatal(err)
		}
		if first.Replayed || !again.Replayed || again.Token != first.Token || again.QRPNG != first.QRPNG || !again.ExpiresAt.Equal(first.ExpiresAt) {
			t.Fatalf("retry: first %+v, again %+v", first.Token, again.Token)
		}
		if img, err := base64.StdEncoding.DecodeString(again.QRPNG); err != nil || len(img) == 0 {
			t.Fatalf("the retry's QR code: %d bytes, %v", len(img), err)
		}
		// The record keeps the token; the QR code is drawn from it again.
		rec, err := e.store.Idempotency(ctxT(t), call.IdempotencyKey)
		if err != nil {
			t.Fatal(err)
		}
		var kept service.EncounterToken
		if err := json.Unmarshal(rec.Response, &kept); err != nil || kept.Token != first.Token || kept.QRPNG != "" {
			t.Fatalf("kept record %s (%v): want the token without its QR code", rec.Response, err)
		}
		fresh, err := e.svc.RequestEncounter(ctxT(t), service.Call{Actor: civ, IdempotencyKey: civ.ID + ":enc-2", Fingerprint: "request-encounter"})
		if err != nil || fresh.Token == first.Token || fresh.Replayed {
			t.Fatalf("another key: %v, same token %v", err, fresh.Token == first.Token)
		}
		// The kept token still works once.
		off := e.officer(t, "off@example.org")
		if _, err := e.svc.RecordInteraction(ctxT(t), service.Call{Actor: off}, again.Token); err != nil {
			t.Fatal(err)
		}
		// A pending account gets no token, with or without a key.
		pending := e.open(t, account.Officer, "pending@example.org")
		_, err = e.svc.RequestEncounter(ctxT(t), service.Call{Actor: service.Actor{ID: pending.ID, Kind: account.Civilian},
			IdempotencyKey: pending.ID + ":enc-1", Fingerprint: "request-encounter"})
		if domain.As(err) == nil {
			t.Fatalf("an officer's account posing as a civilian got a token: %v", err)
		}
	})
}
