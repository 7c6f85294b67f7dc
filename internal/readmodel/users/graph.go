package users

import (
	"context"
	"fmt"
	"strconv"

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
// UNION drops repeated (account, depth) pairs. linked keeps each account at
// its smallest depth, and the page is the keyset after a (depth, id) pair:
// (0, "") before the first page, as every linked account is at depth 1 or
// more.
const connectionsSQL = `WITH RECURSIVE reach(id, depth) AS (
		SELECT CAST(? AS TEXT), CAST(0 AS INTEGER)
		UNION
		SELECT CASE WHEN t.from_id = r.id THEN t.to_id ELSE t.from_id END, r.depth + 1
		FROM reach r JOIN transactions t ON t.from_id = r.id OR t.to_id = r.id
		WHERE r.depth < ?
	), linked(id, kind, depth) AS (
		SELECT reach.id, COALESCE(a.kind, ''), MIN(reach.depth)
		FROM reach LEFT JOIN accounts a ON a.id = reach.id
		WHERE reach.id <> ?
		GROUP BY reach.id, a.kind
	)
	SELECT id, kind, depth FROM linked
	WHERE depth > ? OR (depth = ? AND id > ?)
	ORDER BY depth, id
	LIMIT ?`

// Connections returns the accounts linked to id through transactions, up
// to depth hops (1 to MaxDepth), each at its smallest depth, a page at a
// time: nearest first, then by account id. It answers the graph questions
// (who is near whom) with SQL. cursor is "" for the first page, then the
// next a page returned, "" after the last. Every page walks the graph
// again, bounded by depth, rather than keep a walk between requests; an
// account that a transaction made during a walk brings nearer moves behind
// the cursor, and only a new walk lists it.
func Connections(ctx context.Context, db *projection.DB, id string, depth, limit int, cursor string) ([]Connection, string, error) {
	if depth < 1 || depth > MaxDepth {
		return nil, "", domain.Invalid("depth", "must be between 1 and %d", MaxDepth)
	}
	limit = pageLimit(limit)
	var (
		afterDepth int64
		afterID    string
	)
	if cursor != "" {
		var err error
		if afterDepth, afterID, err = decodeIntCursor(cursor); err != nil {
			return nil, "", err
		}
	}
	rows, err := query(ctx, db, connectionsSQL, id, depth, id, afterDepth, afterDepth, afterID, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out := []Connection{}
	for rows.Next() {
		var (
			c    Connection
			kind string
		)
		if err := rows.Scan(&c.AccountID, &kind, &c.Depth); err != nil {
			return nil, "", fmt.Errorf("users: %w", err)
		}
		c.Kind = account.Kind(kind)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("users: %w", err)
	}
	out, next := cutPage(out, limit, Connection.Cursor)
	return out, next, nil
}

// Cursor is the cursor of the page of connections that follows c.
func (c Connection) Cursor() string {
	return encodeCursor(strconv.Itoa(c.Depth), c.AccountID)
}

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
	limit = pageLimit(limit)
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
	items, next := cutPage(items, limit, func(t Transaction) string { return encodeCursor(stamp(t.At), t.ID) })
	return items, next, nil
}
