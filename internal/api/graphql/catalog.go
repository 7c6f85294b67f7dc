package graphql

import (
	"context"
	"errors"

	"github.com/bluepoint/bluepoint/internal/domain"
)

func (r *queryResolver) Product(ctx context.Context, merchantID, sku string) (*Product, error) {
	p, err := r.s.deps.Service.Product(ctx, merchantID, sku)
	if errors.Is(err, &domain.Error{Code: domain.CodeNotFound}) {
		return nil, nil
	}
	return product(p, err)
}

func (r *queryResolver) Rules(ctx context.Context) ([]Rule, error) {
	rs, err := r.s.deps.Service.Rules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, len(rs))
	for i, rule := range rs {
		out[i] = *ruleOf(rule)
	}
	return out, nil
}

func (r *queryResolver) Rule(ctx context.Context, kind TransactionKind) (*Rule, error) {
	rule, err := r.s.deps.Service.Rule(ctx, valueOf(kind))
	if err != nil {
		return nil, err
	}
	return ruleOf(rule), nil
}
