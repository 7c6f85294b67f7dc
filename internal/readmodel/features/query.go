package features

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/bluepoint/bluepoint/internal/projection"
)

// ErrNotFound is returned by Get for an account the read model has no row
// for: unknown, or not reached by the projection yet.
var ErrNotFound = errors.New("features: account not found")

// The export formats.
const (
	// FormatCSV is comma-separated values with a header row: for
	// spreadsheets and any tool.
	FormatCSV = "csv"
	// FormatParquet is columnar and typed: for data frames and query
	// engines.
	FormatParquet = "parquet"
)

// PageSize is how many rows Export reads, writes and flushes at a time: its
// memory does not grow with the number of accounts.
const PageSize = 1000

// Header is the CSV export's header row, the column names of the data set.
var Header = []string{"account_id", "kind", "status", "interactions", "officers_met", "civilians_met",
	"points_earned", "points_donated", "points_received", "points_redeemed", "redemptions",
	"days_active", "first_activity", "last_activity", "rating"}

// querier is what reads need: the read pool or a read transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Get returns one account's features, or ErrNotFound.
func Get(ctx context.Context, db *projection.DB, accountID string) (Features, error) {
	page, err := readPage(ctx, db.Read, db.Dialect,
		`SELECT `+columns+` FROM account_features WHERE account_id = ?`, accountID)
	if err != nil {
		return Features{}, err
	}
	if len(page) == 0 {
		return Features{}, ErrNotFound
	}
	return page[0], nil
}

// Export writes every account's features to w in account_id order, as CSV
// (with a header row) or Parquet, and returns how many rows it wrote.
//
// It reads pages of PageSize rows by key (keyset pagination) and writes
// and flushes each page before reading the next, so memory stays bounded
// whatever the number of accounts; each Parquet page is one row group (a
// file holds at most 32,767, so about 32 million accounts). On Postgres
// the pages come from one read-only repeatable-read transaction, a
// snapshot of one moment; on SQLite each page is read on its own, so rows
// that change during the export may show values newer than earlier pages.
// progress, when set, is called after each page with the rows written so
// far.
func Export(ctx context.Context, db *projection.DB, format string, w io.Writer, progress func(rows int)) (int, error) {
	var sink pageWriter
	switch format {
	case FormatCSV:
		sink = newCSVWriter(w)
	case FormatParquet:
		sink = &parquetWriter{w: parquet.NewGenericWriter[Features](w, parquet.Compression(&parquet.Zstd))}
	default:
		return 0, fmt.Errorf("features: unknown export format %q (formats: %s, %s)", format, FormatCSV, FormatParquet)
	}
	var q querier = db.Read
	if db.Dialect == projection.Postgres {
		tx, err := db.Read.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		if err != nil {
			return 0, fmt.Errorf("features: export: %w", err)
		}
		defer tx.Rollback() //nolint:errcheck // read-only: nothing to undo
		q = tx
	}
	total, after := 0, ""
	for {
		page, err := readPage(ctx, q, db.Dialect, `SELECT `+columns+` FROM account_features
			WHERE account_id > ? ORDER BY account_id LIMIT `+strconv.Itoa(PageSize), after)
		if err != nil {
			return total, err
		}
		if len(page) == 0 {
			break
		}
		if err := sink.page(page); err != nil {
			return total, fmt.Errorf("features: export: %w", err)
		}
		total += len(page)
		after = page[len(page)-1].AccountID
		if progress != nil {
			progress(total)
		}
		if len(page) < PageSize {
			break
		}
	}
	if err := sink.close(); err != nil {
		return total, fmt.Errorf("features: export: %w", err)
	}
	return total, nil
}

func readPage(ctx context.Context, q querier, d projection.Dialect, query string, args ...any) ([]Features, error) {
	if d == projection.Postgres {
		query = projection.Rebind(query)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	defer rows.Close()
	var out []Features
	for rows.Next() {
		var f Features
		var first, last string
		if err := rows.Scan(dest(&f, &first, &last)...); err != nil {
			return nil, fmt.Errorf("features: %w", err)
		}
		if err := parseTimes(&f, first, last); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	return out, nil
}

// pageWriter is one export format: it writes and flushes a page at a time.
type pageWriter interface {
	page([]Features) error
	close() error
}

type csvWriter struct {
	w      *csv.Writer
	header bool
}

func newCSVWriter(w io.Writer) *csvWriter { return &csvWriter{w: csv.NewWriter(w)} }

func (c *csvWriter) page(rows []Features) error {
	if !c.header {
		if err := c.w.Write(Header); err != nil {
			return err
		}
		c.header = true
	}
	for _, f := range rows {
		if err := c.w.Write(Record(f)); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}

func (c *csvWriter) close() error {
	if !c.header { // an empty data set still has its header
		return c.page(nil)
	}
	return nil
}

// Record is one account's CSV row, in the order of Header. Times are
// RFC 3339 in UTC, empty when unknown.
func Record(f Features) []string {
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	t := func(x time.Time) string {
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format(time.RFC3339Nano)
	}
	return []string{f.AccountID, f.Kind, f.Status, i(f.Interactions), i(f.OfficersMet), i(f.CiviliansMet),
		i(f.PointsEarned), i(f.PointsDonated), i(f.PointsReceived), i(f.PointsRedeemed), i(f.Redemptions),
		i(f.DaysActive), t(f.FirstActivity), t(f.LastActivity), i(f.Rating)}
}

type parquetWriter struct {
	w *parquet.GenericWriter[Features]
}

func (p *parquetWriter) page(rows []Features) error {
	if _, err := p.w.Write(rows); err != nil {
		return err
	}
	return p.w.Flush()
}

func (p *parquetWriter) close() error { return p.w.Close() }
