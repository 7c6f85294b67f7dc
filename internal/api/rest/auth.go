package rest

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/bluepoint/bluepoint/internal/api"
	"github.com/bluepoint/bluepoint/internal/auth/token"
	"github.com/bluepoint/bluepoint/internal/domain/account"
)

// TokenResponse is a sign-in's answer.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type" enum:"Bearer"`
	ExpiresIn    int    `json:"expires_in" doc:"Seconds until the access token expires."`
	RefreshToken string `json:"refresh_token" doc:"Single use: POST it to /v1/auth/refresh for a new pair. A refresh token used twice revokes its session."`
}

type tokenInput struct {
	Body struct {
		Email    string `json:"email" maxLength:"254"`
		Password string `json:"password" maxLength:"256"`
	}
}

type refreshInput struct {
	Body struct {
		RefreshToken string `json:"refresh_token" maxLength:"200"`
	}
}

// rateLimited is a 429 that says when to come back.
type rateLimited struct {
	*huma.ErrorModel
	retryAfter time.Duration
}

func (e *rateLimited) GetHeaders() http.Header {
	return http.Header{"Retry-After": {strconv.Itoa(retrySeconds(e.retryAfter))}}
}

// retrySeconds is a wait in whole seconds, rounded up and at least one, so
// that a client honouring it is not refused again.
func retrySeconds(wait time.Duration) int { return max(1, int(math.Ceil(wait.Seconds()))) }

func (s *Server) authRoutes() {
	register(s, op("create-token", http.MethodPost, "/v1/auth/token", "Sign in: an access token and a refresh token", "auth", true),
		func(ctx context.Context, in *tokenInput) (*Body[TokenResponse], error) {
			if ok, wait := s.Limiter.Allow(in.Body.Email, api.ClientAddr(ctx)); !ok {
				return nil, &rateLimited{problem(http.StatusTooManyRequests, codeRateLimited,
					fmt.Sprintf("too many sign-in attempts; try again in %ds", retrySeconds(wait))), wait}
			}
			a, err := s.Service.Authenticate(ctx, in.Body.Email, in.Body.Password)
			if err != nil {
				return nil, err
			}
			pair, err := s.Tokens.Issue(ctx, a.ID, string(a.Kind))
			return body(tokenResponse(pair), err)
		})
	register(s, op("refresh-token", http.MethodPost, "/v1/auth/refresh", "Trade a refresh token for a new pair", "auth", true),
		func(ctx context.Context, in *refreshInput) (*Body[TokenResponse], error) {
			claims, pair, err := s.Tokens.Rotate(ctx, in.Body.RefreshToken)
			if err != nil {
				return nil, err
			}
			// A closed account keeps no session, even if its tokens were
			// not revoked (a crash between closing and revoking).
			st, err := s.Service.Account(ctx, claims.Subject)
			if err != nil {
				return nil, err
			}
			if !st.Exists() || st.Status == account.Closed {
				if err := s.Tokens.RevokeSubject(ctx, claims.Subject); err != nil {
					return nil, err
				}
				return nil, problem(http.StatusUnauthorized, codeUnauthenticated, "the account is closed")
			}
			return body(tokenResponse(pair), nil)
		})
}

func tokenResponse(p token.Pair) TokenResponse {
	return TokenResponse{AccessToken: p.AccessToken, TokenType: "Bearer", ExpiresIn: int(p.ExpiresIn.Seconds()), RefreshToken: p.RefreshToken}
}

// JWKS serves the public keys that verify access tokens.
func JWKS(t *token.Manager) http.HandlerFunc {
	keys := t.JWKS()
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(keys)
	}
}
