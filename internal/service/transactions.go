package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/product"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
	"github.com/bluepoint/bluepoint/internal/encounter"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/rules"
)

// encounterScope makes each encounter token usable once: recording an
// interaction claims the token's id.
const encounterScope = "encounter"

// EncounterToken is what a civilian shows an officer.
type EncounterToken struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	// QRPNG is the token as a QR code, a PNG in base64.
	QRPNG string `json:"qr_png"`
	// Replayed: this is the token an earlier request with the same
	// idempotency key was given.
	Replayed bool `json:"-"`
}

// RequestEncounter issues an encounter token to an active civilian. Without
// an idempotency key it records nothing: the token carries everything, and
// is claimed when used. With one, the token is kept as the answer under the
// key, so that a retry gets the same token rather than a second one.
func (s *Service) RequestEncounter(ctx context.Context, call Call) (*EncounterToken, error) {
	if call.Actor.Kind != account.Civilian {
		return nil, domain.Forbidden("", "only civilians request encounter tokens")
	}
	if call.IdempotencyKey == "" {
		civ, err := s.Account(ctx, call.Actor.ID)
		if err != nil {
			return nil, err
		}
		tok, err := s.issueEncounter(civ)
		if err != nil {
			return nil, err
		}
		return tok, drawEncounter(tok)
	}
	out, err := s.pipeline.Run(ctx, call.request("RequestEncounter", func(ctx context.Context, sess *command.Session) (command.Result, error) {
		civ, _, err := command.Load(ctx, sess, accounts, call.Actor.ID)
		if err != nil {
			return command.Result{}, err
		}
		tok, err := s.issueEncounter(civ)
		if err != nil {
			return command.Result{}, err
		}
		// The token is kept under the key; its QR code is drawn from it
		// for each answer, so the record stays a few hundred bytes.
		return reply(201, tok)
	}))
	if err != nil {
		return nil, err
	}
	var tok EncounterToken
	if err := json.Unmarshal(out.Result.Body, &tok); err != nil {
		return nil, fmt.Errorf("encounter token kept under the idempotency key: %w", err)
	}
	tok.Replayed = out.Replayed
	if tok.QRPNG == "" { // records kept before the QR code was left out hold it
		if err := drawEncounter(&tok); err != nil {
			return nil, err
		}
	}
	return &tok, nil
}

// issueEncounter signs a token for civ, without its QR code.
func (s *Service) issueEncounter(civ account.State) (*EncounterToken, error) {
	if civ.Status != account.Active {
		return nil, domain.AccountPending("the account is %s; only an active civilian can meet officers", civ.Status)
	}
	tok, err := s.issuer.Issue(civ.ID)
	if err != nil {
		return nil, fmt.Errorf("issue encounter token: %w", err)
	}
	return &EncounterToken{Token: tok.Value, ExpiresAt: tok.ExpiresAt}, nil
}

// drawEncounter adds the token's QR code.
func drawEncounter(tok *EncounterToken) error {
	png, err := encounter.QRPNG(tok.Token, 0)
	if err != nil {
		return fmt.Errorf("encounter QR code: %w", err)
	}
	tok.QRPNG = base64.StdEncoding.EncodeToString(png)
	return nil
}

// InteractionResult is the answer to a recorded interaction.
type InteractionResult struct {
	ID          string           `json:"id"`
	CivilianID  string           `json:"civilian_id"`
	OfficerID   string           `json:"officer_id"`
	Points      map[string]int64 `json:"points"`
	RuleVersion int              `json:"rule_version"`
}

// RecordInteraction is an officer submitting a civilian's encounter token:
// both earn points per the interaction rule. The token's id is claimed in
// the same append, so a token works once; the pair's stream is appended at
// its expected version, so concurrent interactions of one pair cannot both
// slip past a daily cap.
func (s *Service) RecordInteraction(ctx context.Context, call Call, token string) (*command.Outcome, error) {
	if call.Actor.Kind != account.Officer {
		return nil, domain.Forbidden("", "only officers record interactions")
	}
	claims, err := s.issuer.Verify(strings.TrimSpace(token))
	switch {
	case errors.Is(err, encounter.ErrExpired):
		return nil, domain.Invalid("token", "the encounter token expired; ask the civilian for a new one")
	case err != nil:
		return nil, domain.Invalid("token", "is not a valid encounter token")
	}
	txID := newID()
	out, err := s.pipeline.Run(ctx, call.request("RecordInteraction", func(ctx context.Context, sess *command.Session) (command.Result, error) {
		civ, _, err := command.Load(ctx, sess, accounts, claims.CivilianID)
		if err != nil {
			return command.Result{}, err
		}
		off, _, err := command.Load(ctx, sess, accounts, call.Actor.ID)
		if err != nil {
			return command.Result{}, err
		}
		pairs := command.Aggregate[transfer.Pair]{Category: transfer.PairCategory, Initial: transfer.InitialPair, Evolve: transfer.EvolvePair}
		pair, _, err := command.Load(ctx, sess, pairs, claims.CivilianID+"_"+call.Actor.ID)
		if err != nil {
			return command.Result{}, err
		}
		now := s.now().UTC()
		pricing, err := s.price(ctx, rules.KindInteraction, map[string]any{
			"kind": rules.KindInteraction, "at": now, "civilian_id": civ.ID, "officer_id": off.ID,
			"from": civ.ID, "to": off.ID, "points": int64(0),
		}, map[string]int64{"pair_today": pair.CountOn(now), "pair_total": pair.Total})
		if err != nil {
			return command.Result{}, err
		}
		outcome, err := transfer.DecideInteraction(civ, off, pair, transfer.Interact{
			TxID: txID, CivilianID: claims.CivilianID, OfficerID: call.Actor.ID, TokenID: claims.ID, At: now,
		}, transferPricing(pricing))
		if err != nil {
			return command.Result{}, err
		}
		emit(sess, outcome)
		// The owner is this interaction: a claim already held by the same
		// owner passes, so the pair's stream would let the pair reuse a token.
		sess.Claim(encounterScope, claims.ID, "interaction-"+txID)
		return reply(201, InteractionResult{ID: txID, CivilianID: civ.ID, OfficerID: off.ID,
			Points:      map[string]int64{"civilian": pricing.Points[rules.PartyCivilian], "officer": pricing.Points[rules.PartyOfficer]},
			RuleVersion: pricing.RuleVersion})
	}))
	var used *eventstore.ClaimConflictError
	if errors.As(err, &used) {
		return nil, domain.Conflict("token", "this encounter token was already used")
	}
	return out, err
}

// TransferResult is the answer to a donation or a giveaway.
type TransferResult struct {
	ID          string `json:"id"`
	From        string `json:"from"`
	To          string `json:"to"`
	Points      int64  `json:"points"`
	Bonus       int64  `json:"bonus"`
	RuleVersion int    `json:"rule_version"`
}

// Donate moves points from the caller to a verified charity or family. The
// payer is debited at its exact version and the recipient credited in the
// same append. The donation rule prices the donor's bonus only: when its
// condition is false the donation goes ahead without one.
func (s *Service) Donate(ctx context.Context, call Call, to string, points int64, note string) (*command.Outcome, error) {
	return s.transfer(ctx, call, "Donate", rules.KindDonation, rules.PartyDonor, to, points,
		func(from, recipient account.State, txID string, p transfer.Pricing, at time.Time) (transfer.Outcome, error) {
			return transfer.DecideDonation(from, recipient, transfer.Donate{TxID: txID, From: from.ID, To: to, Points: points, Note: note, At: at}, p)
		})
}

// Give moves points from one officer to another.
func (s *Service) Give(ctx context.Context, call Call, to string, points int64) (*command.Outcome, error) {
	if call.Actor.Kind != account.Officer {
		return nil, domain.Forbidden("", "only officers give points to officers")
	}
	return s.transfer(ctx, call, "Give", rules.KindGiveaway, rules.PartyGiver, to, points,
		func(from, recipient account.State, txID string, p transfer.Pricing, at time.Time) (transfer.Outcome, error) {
			return transfer.DecideGiveaway(from, recipient, transfer.Give{TxID: txID, From: from.ID, To: to, Points: points, At: at}, p)
		})
}

type transferDecision func(from, to account.State, txID string, p transfer.Pricing, at time.Time) (transfer.Outcome, error)

func (s *Service) transfer(ctx context.Context, call Call, name, kind, party, to string, points int64, decide transferDecision) (*command.Outcome, error) {
	if call.Actor.ID == "" || call.Actor.IsStaff() {
		return nil, domain.Forbidden("", "sign in with an account that holds points")
	}
	if eventstore.ValidateStreamID(accounts.Stream(to)) != nil {
		return nil, domain.Invalid("to", "is not an account id")
	}
	txID := newID()
	return s.pipeline.Run(ctx, call.request(name, func(ctx context.Context, sess *command.Session) (command.Result, error) {
		from, _, err := command.Load(ctx, sess, accounts, call.Actor.ID)
		if err != nil {
			return command.Result{}, err
		}
		recipient, _, err := command.Load(ctx, sess, accounts, to)
		if err != nil {
			return command.Result{}, err
		}
		now := s.now().UTC()
		pricing, err := s.price(ctx, kind, map[string]any{"kind": kind, "at": now, "from": from.ID, "to": to, "points": points}, map[string]int64{})
		if err != nil {
			return command.Result{}, err
		}
		outcome, err := decide(from, recipient, txID, bonusPricing(pricing), now)
		if err != nil {
			return command.Result{}, err
		}
		emit(sess, outcome)
		return reply(201, TransferResult{ID: txID, From: from.ID, To: to, Points: points,
			Bonus: bonusPricing(pricing).Points[party], RuleVersion: pricing.RuleVersion})
	}))
}

// RedemptionResult is the answer to a redemption.
type RedemptionResult struct {
	ID          string `json:"id"`
	VoucherCode string `json:"voucher_code"`
	Points      int64  `json:"points"`
	Quantity    int64  `json:"quantity"`
	RuleVersion int    `json:"rule_version"`
}

// Redeem spends the caller's points on a merchant's product: stock goes
// down, the merchant earns what the redeemer spends, and the redeemer gets
// a voucher code.
func (s *Service) Redeem(ctx context.Context, call Call, merchantID, sku string, quantity, expectedPrice int64) (*command.Outcome, error) {
	if call.Actor.ID == "" || call.Actor.IsStaff() {
		return nil, domain.Forbidden("", "sign in with an account that holds points")
	}
	if eventstore.ValidateStreamID(accounts.Stream(merchantID)) != nil {
		return nil, domain.Invalid("merchant_id", "is not an account id")
	}
	txID, voucher := newID(), newVoucher()
	return s.pipeline.Run(ctx, call.request("Redeem", func(ctx context.Context, sess *command.Session) (command.Result, error) {
		redeemer, _, err := command.Load(ctx, sess, accounts, call.Actor.ID)
		if err != nil {
			return command.Result{}, err
		}
		merchant, _, err := command.Load(ctx, sess, accounts, merchantID)
		if err != nil {
			return command.Result{}, err
		}
		prod, _, err := s.loadProduct(ctx, sess, merchantID, sku)
		if err != nil {
			return command.Result{}, err
		}
		now := s.now().UTC()
		pricing, err := s.price(ctx, rules.KindRedemption, map[string]any{"kind": rules.KindRedemption, "at": now,
			"from": redeemer.ID, "to": merchantID, "points": prod.PricePoints * quantity}, map[string]int64{})
		if err != nil {
			return command.Result{}, err
		}
		outcome, err := transfer.DecideRedemption(redeemer, merchant, prod, product.Redeem{TxID: txID, RedeemerID: redeemer.ID,
			Quantity: quantity, ExpectedPrice: expectedPrice, Voucher: voucher, At: now}, bonusPricing(pricing))
		if err != nil {
			return command.Result{}, err
		}
		emit(sess, outcome)
		return reply(201, RedemptionResult{ID: txID, VoucherCode: voucher, Points: prod.PricePoints * quantity,
			Quantity: quantity, RuleVersion: pricing.RuleVersion})
	}))
}

// transferPricing passes a rule's verdict to the domain as it is: for an
// interaction, a false condition refuses the interaction.
func transferPricing(p rules.Pricing) transfer.Pricing {
	return transfer.Pricing{RuleVersion: p.RuleVersion, Points: p.Points, Allowed: p.Allowed, Reason: p.Reason}
}

// bonusPricing is for the kinds whose rule prices only a bonus: a false
// condition withholds the bonus and the transaction goes ahead.
func bonusPricing(p rules.Pricing) transfer.Pricing {
	tp := transferPricing(p)
	if !p.Allowed {
		tp.Allowed, tp.Reason, tp.Points = true, "", map[string]int64{}
	}
	return tp
}

// emit queues a decision's events per stream.
func emit(sess *command.Session, o transfer.Outcome) {
	for _, a := range o.Appends {
		sess.Emit(a.StreamID, a.Events...)
	}
}

// newVoucher makes a voucher code a person can read out: 4 groups of 4.
func newVoucher() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" // no 0/O, 1/I
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String()
}
