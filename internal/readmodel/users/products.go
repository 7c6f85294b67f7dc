package users

import (
	"context"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/projection"
)

// Product is one product of a merchant's list as the read model shows it.
type Product struct {
	MerchantID   string `json:"merchant_id"`
	SKU          string `json:"sku"`
	Name         string `json:"name"`
	PricePoints  int64  `json:"price_points"`
	Stock        int64  `json:"stock"`
	Status       string `json:"status"`
	UnitsSold    int64  `json:"units_sold"`
	PointsEarned int64  `json:"points_earned"`
}

// Products lists a merchant's products in SKU order, delisted ones too
// (their status says so): at most limit of them, after the SKU after (empty:
// from the start). The SKU is unique per merchant, so it is the cursor.
func Products(ctx context.Context, db *projection.DB, merchantID, after string, limit int) ([]Product, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	rows, err := query(ctx, db, `SELECT merchant_id, sku, name, price_points, stock, status, units_sold, points_earned
		FROM products WHERE merchant_id = ? AND sku > ? ORDER BY sku LIMIT ?`, merchantID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Product{}
	for rows.Next() {
		var p Product
		if err := rows.Scan(&p.MerchantID, &p.SKU, &p.Name, &p.PricePoints, &p.Stock, &p.Status, &p.UnitsSold, &p.PointsEarned); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return out, nil
}
