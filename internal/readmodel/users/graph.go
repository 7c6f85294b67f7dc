package users

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/projection"
)

// MaxDepth bounds Connections: beyond three hops nearly everyone is linked
// and the walk grows quickly.
const MaxDepth = 3

// Connection is an account linked to another through transactions, at the
// smallest number of hops (Depth) that links them. Kind is empty for an
// account whose own stream the read model has not seen yet.
type Connection struct {
	AccountID string       `json:"account_id"`
	Kind      account.Kind `json:"kind"`
	Depth     int          `json:"depth"`
}

// connectionsSQL walks the transactions as an undirected graph with a
// recursive CTE (the same SQL on SQLite and Postgres). Each step follows
// the rows where the reached account is either party; depth bounds it, and
// UNION drops repeated (account, depth) pairs.
const connectionsSQL = `WITH RECURSIVE reach(id, depth) AS (
		SELECT CAST(? AS TEXT), CAST(0 AS INTEGER)
		UNION
		SELECT CASE WHEN t.from_id = r.id THEN t.to_id ELSE t.from_id END, r.depth + 1
		FROM reach r JOIN transactions t ON t.from_id = r.id OR t.to_id = r.id
		WHERE r.depth < ?
	)
	SELECT reach.id, COALESCE(a.kind, ''), MIN(reach.depth)
	FROM reach LEFT JOIN accounts a ON a.id = reach.id
	WHERE reach.id <> ?
	GROUP BY reach.id, a.kind
	ORDER BY MIN(reach.depth), reach.id`

// Connections returns the accounts linked to id through transactions, up
// to depth hops (1 to MaxDepth), each at its smallest depth, nearest
// first. It answers the graph questions (who is near whom) with SQL.
func Connections(ctx context.Context, db *projection.DB, id string, depth int) ([]Connection, error) {
	if depth < 1 || depth > MaxDepth {
		return nil, domain.Invalid("depth", "must be between 1 and %d", MaxDepth)
	}
	rows, err := query(ctx, db, connectionsSQL, id, depth, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Connection{}
	for rows.Next() {
		var (
			c    Connection
			kind string
		)
		if err := rows.Scan(&c.AccountID, &kind, &c.Depth); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		c.Kind = account.Kind(kind)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Page sizes of AccountTransactions.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// AccountTransactions lists the transactions an account took part in (as
// either party), newest first, a page at a time. cursor is "" for the first
// page, then the next value a page returned; next is "" after the last
// page. The cursor is opaque (the last row's time and id), so pages stay
// stable while new transactions arrive.
func AccountTransactions(ctx context.Context, db *projection.DB, id string, limit int, cursor string) ([]Transaction, string, error) {
	return transactionPage(ctx, db, `WHERE (from_id = ? OR to_id = ?)`, []any{id, id}, limit, cursor)
}

// transactionPage reads one page, newest first, of the transactions where
// selects, after cursor (keyset pagination on time and id).
func transactionPage(ctx context.Context, db *projection.DB, where string, args []any, limit int, cursor string) ([]Transaction, string, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	if cursor != "" {
		at, txID, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		where += ` AND (at < ? OR (at = ? AND id < ?))`
		args = append(args, at, at, txID)
	}
	args = append(args, limit+1)
	items, err := transactions(ctx, db, where+` ORDER BY at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, "", err
	}
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	last := items[limit-1]
	return items, encodeCursor(stamp(last.At), last.ID), nil
}

func encodeCursor(at, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at + "|" + id))
}

func decodeCursor(c string) (at, id string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		var ok bool
		if at, id, ok = strings.Cut(string(b), "|"); ok {
			if _, err := unstamp(at); err == nil && at != "" && id != "" {
				return at, id, nil
			}
		}
	}
	return "", "", domain.Invalid("cursor", "is not a cursor this query returned")
}
