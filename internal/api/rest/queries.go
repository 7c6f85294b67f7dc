package rest

import (
	"context"
	"net/http"

	"github.com/bluepoint/bluepoint/internal/readmodel/users"
	"github.com/bluepoint/bluepoint/internal/service"
)

type pagedAccountInput struct {
	AccountPath
	PageQuery
}

// donationsPage is one page of a recipient's donations, with the total and
// count of all of them.
type donationsPage struct {
	Items      []users.Transaction `json:"items"`
	Total      int64               `json:"total" doc:"Points received in every donation, not only this page's."`
	Count      int                 `json:"count" doc:"Every donation received."`
	NextCursor string              `json:"next_cursor,omitempty" doc:"Pass it as cursor to get the next page; absent on the last page."`
}

type officersMet struct {
	CivilianID string             `json:"civilian_id"`
	Items      []users.OfficerMet `json:"items"`
	NextCursor string             `json:"next_cursor,omitempty" doc:"Pass it as cursor to get the next page; absent on the last page."`
}

// salesPage is what a merchant sold: the totals of every product, and one
// page of the products.
type salesPage struct {
	Units      int64                `json:"units" doc:"Units sold of every product, not only this page's."`
	Points     int64                `json:"points" doc:"Points earned from every product, not only this page's."`
	Products   []users.ProductSales `json:"products" doc:"This page's products, the best-selling first, then by SKU; unsold ones too."`
	NextCursor string               `json:"next_cursor,omitempty" doc:"Pass it as cursor to get the next page; absent on the last page."`
}

// opener opens personal fields for staff only: the officers a civilian met,
// say, are other people, whose names are theirs.
func (s *Server) opener(a service.Actor) users.Opener {
	if !a.IsStaff() {
		return nil
	}
	return s.open
}

func (s *Server) queryRoutes() {
	register(s, op("list-officers-met", http.MethodGet, "/v1/civilians/{id}/officers", "The officers a civilian has met, with how often and when last, the most recently met first, then by officer id (itself or staff)", "queries", false),
		func(ctx context.Context, in *pagedAccountInput) (*Body[officersMet], error) {
			a, err := selfOrStaff(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			items, next, err := users.OfficersMet(ctx, s.ReadDB, in.ID, s.opener(a), in.Limit, in.Cursor)
			return body(officersMet{CivilianID: in.ID, Items: items, NextCursor: next}, err)
		})
	register(s, op("list-donations-received", http.MethodGet, "/v1/recipients/{id}/donations", "The donations a charity or family received, newest first, and their total (itself or staff)", "queries", false),
		func(ctx context.Context, in *pagedAccountInput) (*Body[donationsPage], error) {
			if _, err := selfOrStaff(ctx, in.ID); err != nil {
				return nil, err
			}
			d, next, err := users.DonationsPage(ctx, s.ReadDB, in.ID, in.Limit, in.Cursor)
			return body(donationsPage{Items: d.Items, Total: d.Total, Count: d.Count, NextCursor: next}, err)
		})
	register(s, op("get-merchant-sales", http.MethodGet, "/v1/merchants/{id}/sales", "What a merchant sold, in units and points, in total and per product, the best-selling first (itself or staff)", "queries", false),
		func(ctx context.Context, in *listProductsInput) (*Body[salesPage], error) {
			if _, err := selfOrStaff(ctx, in.ID); err != nil {
				return nil, err
			}
			sales, next, err := users.MerchantSales(ctx, s.ReadDB, in.ID, in.Limit, in.Cursor)
			return body(salesPage{Units: sales.Units, Points: sales.Points, Products: sales.Products, NextCursor: next}, err)
		})
}
