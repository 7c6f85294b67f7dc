package rest

import (
	"context"
	"net/http"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/rules"
)

type rulesList struct {
	Items []rules.Rule `json:"items"`
}

type changeRuleInput struct {
	Kind string `path:"kind" enum:"interaction,donation,giveaway,redemption"`
	Body struct {
		Points    map[string]int64 `json:"points" doc:"Points per party: civilian and officer for interaction; donor, giver or redeemer bonus for the others."`
		Condition string           `json:"condition,omitempty" maxLength:"2000" doc:"A CEL expression that must be true for the rule to award anything."`
	}
}

func (s *Server) ruleRoutes() {
	register(s, op("list-rules", http.MethodGet, "/v1/rules", "The rules in force", "rules", false),
		func(ctx context.Context, _ *struct{}) (*Body[rulesList], error) {
			if _, err := signedIn(ctx); err != nil {
				return nil, err
			}
			rs, err := s.Service.Rules(ctx)
			return body(rulesList{Items: rs}, err)
		})
	register(s, op("change-rule", http.MethodPut, "/v1/rules/{kind}", "Change a rule: a new version (staff)", "rules", false),
		func(ctx context.Context, in *changeRuleInput) (*Result[rules.Rule], error) {
			if _, err := requireKind(ctx, account.Staff); err != nil {
				return nil, err
			}
			return result[rules.Rule](s.Service.ChangeRule(ctx, call(ctx, "", "", nil), in.Kind, in.Body.Points, in.Body.Condition))
		})
}
