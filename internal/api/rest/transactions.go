package rest

import (
	"context"
	"net/http"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/service"
)

type encounterInput struct {
	Idempotent
}

type interactionInput struct {
	Idempotent
	Body struct {
		Token string `json:"token" maxLength:"2000" doc:"The encounter token the civilian shows."`
	}
}

// TransferBody moves points to another account.
type TransferBody struct {
	To     string `json:"to" maxLength:"100" doc:"The receiving account's id."`
	Points int64  `json:"points" minimum:"1" maximum:"1000000000"`
	Note   string `json:"note,omitempty" maxLength:"500"`
}

type donationInput struct {
	Idempotent
	Body TransferBody
}

type giveawayInput struct {
	Idempotent
	Body struct {
		To     string `json:"to" maxLength:"100" doc:"The receiving officer's id."`
		Points int64  `json:"points" minimum:"1" maximum:"1000000000"`
	}
}

type redemptionInput struct {
	Idempotent
	Body struct {
		MerchantID          string `json:"merchant_id" maxLength:"100"`
		SKU                 string `json:"sku" maxLength:"100"`
		Quantity            int64  `json:"quantity" minimum:"1" maximum:"1000"`
		ExpectedPricePoints int64  `json:"expected_price_points,omitempty" minimum:"0" doc:"The unit price the client showed; when set, a redemption at another price is refused rather than charged."`
	}
}

func (s *Server) transactionRoutes() {
	register(s, created(op("request-encounter", http.MethodPost, "/v1/encounters", "A civilian's encounter token, with its QR code (civilian)", "transactions", false)),
		func(ctx context.Context, in *encounterInput) (*Result[service.EncounterToken], error) {
			if _, err := requireKind(ctx, account.Civilian); err != nil {
				return nil, err
			}
			tok, err := s.Service.RequestEncounter(ctx, call(ctx, in.IdempotencyKey, "request-encounter", nil))
			if err != nil {
				return nil, err
			}
			r := &Result[service.EncounterToken]{Status: http.StatusCreated, Body: *tok}
			if tok.Replayed {
				r.Replayed = "true"
			}
			return r, nil
		})
	register(s, created(op("record-interaction", http.MethodPost, "/v1/interactions", "An officer submits a civilian's encounter token: both earn points (officer)", "transactions", false)),
		func(ctx context.Context, in *interactionInput) (*Result[service.InteractionResult], error) {
			if _, err := requireKind(ctx, account.Officer); err != nil {
				return nil, err
			}
			return result[service.InteractionResult](s.Service.RecordInteraction(ctx, call(ctx, in.IdempotencyKey, "record-interaction", in.Body), in.Body.Token))
		})
	register(s, created(op("donate", http.MethodPost, "/v1/donations", "Donate points to a verified charity or family", "transactions", false)),
		func(ctx context.Context, in *donationInput) (*Result[service.TransferResult], error) {
			if _, err := holder(ctx); err != nil {
				return nil, err
			}
			b := in.Body
			return result[service.TransferResult](s.Service.Donate(ctx, call(ctx, in.IdempotencyKey, "donate", b), b.To, b.Points, b.Note))
		})
	register(s, created(op("give", http.MethodPost, "/v1/giveaways", "Give points to another officer (officer)", "transactions", false)),
		func(ctx context.Context, in *giveawayInput) (*Result[service.TransferResult], error) {
			if _, err := requireKind(ctx, account.Officer); err != nil {
				return nil, err
			}
			b := in.Body
			return result[service.TransferResult](s.Service.Give(ctx, call(ctx, in.IdempotencyKey, "give", b), b.To, b.Points))
		})
	register(s, created(op("redeem", http.MethodPost, "/v1/redemptions", "Spend points on a merchant's product: a voucher code", "transactions", false)),
		func(ctx context.Context, in *redemptionInput) (*Result[service.RedemptionResult], error) {
			if _, err := holder(ctx); err != nil {
				return nil, err
			}
			b := in.Body
			return result[service.RedemptionResult](s.Service.Redeem(ctx, call(ctx, in.IdempotencyKey, "redeem", b), b.MerchantID, b.SKU, b.Quantity, b.ExpectedPricePoints))
		})
}
