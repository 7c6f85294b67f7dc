package rest

import (
	"context"
	"encoding/base64"
	"net/http"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/readmodel/users"
	"github.com/bluepoint/bluepoint/internal/service"
)

// MerchantPath names a merchant.
type MerchantPath struct {
	ID string `path:"id" maxLength:"100" doc:"The merchant's account id."`
}

// ProductPath names one product of a merchant.
type ProductPath struct {
	MerchantPath
	SKU string `path:"sku" maxLength:"100"`
}

type listProductInput struct {
	Idempotent
	MerchantPath
	Body struct {
		SKU         string `json:"sku" maxLength:"100"`
		Name        string `json:"name" maxLength:"200"`
		PricePoints int64  `json:"price_points" minimum:"1" maximum:"1000000000"`
		Stock       int64  `json:"stock" minimum:"0" maximum:"1000000000"`
	}
}

type listProductsInput struct {
	MerchantPath
	PageQuery
}

type updateProductInput struct {
	Idempotent
	ProductPath
	Body struct {
		PricePoints *int64 `json:"price_points,omitempty" minimum:"1" maximum:"1000000000" doc:"A new unit price."`
		AddStock    *int64 `json:"add_stock,omitempty" minimum:"1" maximum:"1000000000" doc:"Units to add to the stock."`
	}
}

func (s *Server) catalogRoutes() {
	register(s, created(op("list-product", http.MethodPost, "/v1/merchants/{id}/products", "Put a product on a merchant's list (the merchant or staff)", "catalog", false)),
		func(ctx context.Context, in *listProductInput) (*Result[service.ProductView], error) {
			if _, err := selfOrStaff(ctx, in.ID); err != nil {
				return nil, err
			}
			b := in.Body
			return result[service.ProductView](s.Service.ListProduct(ctx, call(ctx, in.IdempotencyKey, "list-product", in), in.ID, b.SKU, b.Name, b.PricePoints, b.Stock))
		})
	register(s, op("list-products", http.MethodGet, "/v1/merchants/{id}/products", "A merchant's products, by SKU", "catalog", false),
		func(ctx context.Context, in *listProductsInput) (*Body[Page[users.Product]], error) {
			if _, err := signedIn(ctx); err != nil {
				return nil, err
			}
			after, err := base64.RawURLEncoding.DecodeString(in.Cursor)
			if err != nil {
				return nil, domain.Invalid("cursor", "is not a cursor this API gave")
			}
			items, err := users.Products(ctx, s.ReadDB, in.ID, string(after), in.Limit)
			if err != nil {
				return nil, err
			}
			page := Page[users.Product]{Items: items}
			if len(items) == in.Limit {
				page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(items[len(items)-1].SKU))
			}
			return &Body[Page[users.Product]]{Body: page}, nil
		})
	register(s, op("update-product", http.MethodPatch, "/v1/merchants/{id}/products/{sku}", "Change a product's price or add stock (the merchant or staff)", "catalog", false),
		func(ctx context.Context, in *updateProductInput) (*Result[service.ProductView], error) {
			if _, err := selfOrStaff(ctx, in.ID); err != nil {
				return nil, err
			}
			b := in.Body
			return result[service.ProductView](s.Service.UpdateProduct(ctx, call(ctx, in.IdempotencyKey, "update-product", in),
				in.ID, in.SKU, b.PricePoints, b.AddStock))
		})
	register(s, op("delist-product", http.MethodDelete, "/v1/merchants/{id}/products/{sku}", "Take a product off the list (the merchant or staff)", "catalog", false),
		func(ctx context.Context, in *ProductPath) (*Result[service.ProductView], error) {
			if _, err := selfOrStaff(ctx, in.ID); err != nil {
				return nil, err
			}
			return result[service.ProductView](s.Service.Delist(ctx, call(ctx, "", "", nil), in.ID, in.SKU))
		})
}
