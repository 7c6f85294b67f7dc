package service

import (
	"context"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/product"
	"github.com/bluepoint/bluepoint/internal/eventstore"
)

var products = command.Aggregate[product.State]{Category: product.Category, Initial: product.Initial, Evolve: product.Evolve}

// ProductView is a product as the API shows it.
type ProductView struct {
	MerchantID   string         `json:"merchant_id"`
	SKU          string         `json:"sku"`
	Name         string         `json:"name"`
	PricePoints  int64          `json:"price_points"`
	Stock        int64          `json:"stock"`
	Status       product.Status `json:"status"`
	UnitsSold    int64          `json:"units_sold"`
	PointsEarned int64          `json:"points_earned"`
}

func viewOf(p product.State) ProductView {
	return ProductView{MerchantID: p.MerchantID, SKU: p.SKU, Name: p.Name, PricePoints: p.PricePoints, Stock: p.Stock,
		Status: p.Status, UnitsSold: p.UnitsSold, PointsEarned: p.PointsEarned}
}

// productKey is the id part of a product's stream.
func productKey(merchantID, sku string) string {
	return product.StreamID(merchantID, sku)[len(product.Category)+1:]
}

func (s *Service) loadProduct(ctx context.Context, sess *command.Session, merchantID, sku string) (product.State, int64, error) {
	if eventstore.ValidateStreamID(product.StreamID(merchantID, sku)) != nil {
		return product.State{}, 0, domain.Invalid("sku", "is not a product of this merchant")
	}
	return command.Load(ctx, sess, products, productKey(merchantID, sku))
}

// ListProduct puts a new product on a merchant's list (the merchant itself
// or staff).
func (s *Service) ListProduct(ctx context.Context, call Call, merchantID, sku, name string, price, stock int64) (*command.Outcome, error) {
	return s.onProduct(ctx, call, "ListProduct", merchantID, sku, 201, func(ctx context.Context, sess *command.Session, _ product.State) ([]any, error) {
		merchant, _, err := command.Load(ctx, sess, accounts, merchantID)
		if err != nil {
			return nil, err
		}
		if merchant.Kind != account.Merchant || merchant.Status != account.Active {
			return nil, domain.Invalid("merchant_id", "must be an active merchant")
		}
		return []any{product.List{MerchantID: merchantID, SKU: sku, Name: name, PricePoints: price, Stock: stock, At: s.now().UTC()}}, nil
	})
}

// Restock adds units to a product.
func (s *Service) Restock(ctx context.Context, call Call, merchantID, sku string, quantity int64) (*command.Outcome, error) {
	return s.onProduct(ctx, call, "Restock", merchantID, sku, 200, func(context.Context, *command.Session, product.State) ([]any, error) {
		return []any{product.Restock{Quantity: quantity, At: s.now().UTC()}}, nil
	})
}

// Reprice changes a product's unit price.
func (s *Service) Reprice(ctx context.Context, call Call, merchantID, sku string, price int64) (*command.Outcome, error) {
	return s.onProduct(ctx, call, "Reprice", merchantID, sku, 200, func(context.Context, *command.Session, product.State) ([]any, error) {
		return []any{product.Reprice{PricePoints: price, At: s.now().UTC()}}, nil
	})
}

// UpdateProduct changes a product's price, adds stock, or both, in one
// append: a refused part leaves the other undone too.
func (s *Service) UpdateProduct(ctx context.Context, call Call, merchantID, sku string, price, addStock *int64) (*command.Outcome, error) {
	if price == nil && addStock == nil {
		return nil, domain.Invalid("body", "must set price_points or add_stock")
	}
	out, err := s.onProduct(ctx, call, "UpdateProduct", merchantID, sku, 200, func(context.Context, *command.Session, product.State) ([]any, error) {
		var cmds []any
		now := s.now().UTC()
		if price != nil {
			cmds = append(cmds, product.Reprice{PricePoints: *price, At: now})
		}
		if addStock != nil {
			cmds = append(cmds, product.Restock{Quantity: *addStock, At: now})
		}
		return cmds, nil
	})
	if de := domain.As(err); de != nil && de.Field == "quantity" {
		de.Field = "add_stock" // the restock's quantity is what the caller sent as add_stock
	}
	return out, err
}

// Delist takes a product off the list.
func (s *Service) Delist(ctx context.Context, call Call, merchantID, sku string) (*command.Outcome, error) {
	return s.onProduct(ctx, call, "Delist", merchantID, sku, 200, func(context.Context, *command.Session, product.State) ([]any, error) {
		return []any{product.Delist{At: s.now().UTC()}}, nil
	})
}

// productCommand returns the commands to decide on a product, in turn:
// their events are appended together, or none of them.
type productCommand func(ctx context.Context, sess *command.Session, current product.State) ([]any, error)

func (s *Service) onProduct(ctx context.Context, call Call, name, merchantID, sku string, status int, cmd productCommand) (*command.Outcome, error) {
	if err := selfOrStaff(call.Actor, merchantID); err != nil {
		return nil, err
	}
	return s.pipeline.Run(ctx, call.request(name, func(ctx context.Context, sess *command.Session) (command.Result, error) {
		state, _, err := s.loadProduct(ctx, sess, merchantID, sku)
		if err != nil {
			return command.Result{}, err
		}
		cmds, err := cmd(ctx, sess, state)
		if err != nil {
			return command.Result{}, err
		}
		var all []any
		for _, c := range cmds {
			evs, err := product.Decide(state, c)
			if err != nil {
				return command.Result{}, err
			}
			for _, e := range evs {
				state = product.Evolve(state, e)
			}
			all = append(all, evs...)
		}
		sess.Emit(product.StreamID(merchantID, sku), all...)
		return reply(status, viewOf(state))
	}))
}

// Product returns a product's current state.
func (s *Service) Product(ctx context.Context, merchantID, sku string) (ProductView, error) {
	stream := product.StreamID(merchantID, sku)
	if eventstore.ValidateStreamID(stream) != nil {
		return ProductView{}, domain.NotFound("", "no such product")
	}
	state, _, err := command.Current(ctx, s.pipeline, products, productKey(merchantID, sku))
	if err != nil {
		return ProductView{}, fmt.Errorf("load product: %w", err)
	}
	if !state.Exists() {
		return ProductView{}, domain.NotFound("", "no such product")
	}
	return viewOf(state), nil
}
