package eventlog

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/projection"
)

// Entry is one event as the log shows it.
type Entry struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	StreamID   string    `json:"stream_id"`
	CustomerID string    `json:"customer_id,omitempty"`
	OccurredAt time.Time `json:"occurred_at"`
	// Description holds {account:<id>} references; see Render.
	Description string          `json:"description"`
	Data        json.RawMessage `json:"data"`
}

// Filter narrows a listing; zero fields do not filter. The time range is
// [From, To). Q is full-text: every word must appear in the description.
type Filter struct {
	CustomerID string
	Types      []string
	From, To   time.Time
	Q          string
}

// Page sizes of List.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// ErrNotFound is Get's answer for an id the log does not hold.
var ErrNotFound = errors.New("event log: no such event")

// ErrInvalidCursor matches (with errors.Is) the error List returns for a
// cursor it did not issue: a *domain.Error of code invalid on the field
// "cursor", which the API edges already answer with a 400.
var ErrInvalidCursor error = &domain.Error{Code: domain.CodeInvalid, Field: "cursor"}

const columns = `id, type, stream_id, customer_id, occurred_at, description, data`

// List returns the entries matching f, newest first (by time, then id),
// limit at a time (0 means DefaultLimit). next is the cursor of the
// following page, empty on the last one. The cursor is keyset pagination:
// a page is as fast deep in the log as at its start, and entries added
// meanwhile do not shift the pages.
func List(ctx context.Context, db *projection.DB, f Filter, limit int, cursor string) (items []Entry, next string, err error) {
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 1 || limit > MaxLimit:
		return nil, "", domain.Invalid("limit", "must be 1 to %d", MaxLimit)
	}
	var where []string
	var args []any
	if f.CustomerID != "" {
		where, args = append(where, "customer_id = ?"), append(args, f.CustomerID)
	}
	if len(f.Types) > 0 {
		where = append(where, "type IN (?"+strings.Repeat(", ?", len(f.Types)-1)+")")
		for _, t := range f.Types {
			args = append(args, t)
		}
	}
	if !f.From.IsZero() {
		where, args = append(where, "occurred_at >= ?"), append(args, f.From.UnixMicro())
	}
	if !f.To.IsZero() {
		where, args = append(where, "occurred_at < ?"), append(args, f.To.UnixMicro())
	}
	searching := strings.TrimSpace(f.Q) != ""
	if searching {
		words := searchWords(f.Q)
		if len(words) == 0 {
			return nil, "", domain.Invalid("q", "has no words to search for")
		}
		clause, match, err := search(ctx, db, words)
		if err != nil {
			return nil, "", err
		}
		where, args = append(where, clause), append(args, match)
	}
	if cursor != "" {
		at, id, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		where, args = append(where, "(occurred_at, id) < (?, ?)"), append(args, at, id)
	}
	q := `SELECT ` + columns + ` FROM event_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY occurred_at DESC, id DESC LIMIT ?`
	run := query
	if searching {
		run = serialQuery
	}
	items, err = run(ctx, db, q, append(args, limit+1)...)
	if err != nil {
		return nil, "", err
	}
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		next = encodeCursor(last.OccurredAt.UnixMicro(), last.ID)
	}
	return items, next, nil
}

// commonMatches is how many matches make a search term common on SQLite:
// the newest entries that match are then found by walking the log newest
// first and keeping those that match, rather than by reading every match
// and sorting.
const commonMatches = 2000

// search returns the condition that keeps the entries holding words, and
// its argument. On Postgres the planner weighs the index against the
// order of the log itself. SQLite's does not know how many entries match,
// and starts from the matches: right for a rare term, but for one in every
// few entries it reads and sorts tens of thousands of rows for one page.
// There the matches are counted first, up to commonMatches (a read of the
// full-text index alone); for a common term the unary + keeps the planner
// from starting from them, and the page comes from the newest entries.
func search(ctx context.Context, db *projection.DB, words []string) (clause string, match string, err error) {
	if db.Dialect == projection.Postgres {
		return searchVector + " @@ plainto_tsquery('simple', ?)", strings.Join(words, " "), nil
	}
	cond := "seq IN (SELECT seq FROM event_log_fts WHERE description MATCH ?)"
	match = `"` + strings.Join(words, `" "`) + `"`
	var n int
	err = db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM event_log_fts WHERE description MATCH ? LIMIT ?)`,
		match, commonMatches).Scan(&n)
	if err != nil {
		return "", "", fmt.Errorf("event log: search: %w", err)
	}
	if n >= commonMatches {
		return "+" + cond, match, nil
	}
	return cond, match, nil
}

// Get returns one entry by id, or ErrNotFound.
func Get(ctx context.Context, db *projection.DB, id string) (Entry, error) {
	items, err := query(ctx, db, `SELECT `+columns+` FROM event_log WHERE id = ?`, id)
	if err != nil {
		return Entry{}, err
	}
	if len(items) == 0 {
		return Entry{}, ErrNotFound
	}
	return items[0], nil
}

func query(ctx context.Context, db *projection.DB, q string, args ...any) ([]Entry, error) {
	if db.Dialect == projection.Postgres {
		q = projection.Rebind(q)
	}
	rows, err := db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	return scanEntries(rows)
}

// serialQuery is query without parallel workers on Postgres, for a page of
// a full-text search. The planner underestimates how many entries a common
// phrase matches, so it plans a long walk of the log newest first and
// shares it among workers, whose start costs more than the walk: a page of
// "missing voucher" (7% of a million entries) took 43-58 ms with two
// workers, 4.4 ms without.
func serialQuery(ctx context.Context, db *projection.DB, q string, args ...any) ([]Entry, error) {
	if db.Dialect != projection.Postgres {
		return query(ctx, db, q, args...)
	}
	tx, err := db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only: nothing to keep
	if _, err := tx.ExecContext(ctx, `SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	rows, err := tx.QueryContext(ctx, projection.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	return scanEntries(rows)
}

// scanEntries reads the entries of a query's rows and closes them.
func scanEntries(rows *sql.Rows) ([]Entry, error) {
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at int64
		var data string
		if err := rows.Scan(&e.ID, &e.Type, &e.StreamID, &e.CustomerID, &at, &e.Description, &data); err != nil {
			return nil, fmt.Errorf("event log: %w", err)
		}
		e.OccurredAt, e.Data = time.UnixMicro(at).UTC(), json.RawMessage(data)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("event log: %w", err)
	}
	return out, nil
}

// searchWords splits a query into the words both full-text engines index
// (runs of letters and digits), so that neither engine's query syntax is
// exposed to the caller.
func searchWords(q string) []string {
	return strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// A cursor is the last entry's time and id, base64url-encoded: opaque to
// clients, and checked on the way back in.
func encodeCursor(at int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + "|" + id))
}

func decodeCursor(c string) (int64, string, error) {
	bad := domain.Invalid("cursor", "is not a cursor this listing returned")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", bad
	}
	at, id, ok := strings.Cut(string(raw), "|")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, "", bad
	}
	return n, id, nil
}
