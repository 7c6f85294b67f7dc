package eventlog

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/bluepoint/bluepoint/internal/projection"
)

// GenerateStart and GenerateEnd bound the times of generated entries: one
// year, so that benchmarks can ask for any 30 days of it.
var (
	GenerateStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	GenerateEnd   = GenerateStart.AddDate(1, 0, 0)
)

// EventsPerCustomer is how many entries Generate makes per customer, so n
// entries are about n/10 accounts (10 million entries, 1 million accounts).
const EventsPerCustomer = 10

// generateBatch is the rows per INSERT (7 parameters each, within SQLite's
// limit) or per COPY.
const generateBatch = 2000

// genTypes are the types of generated entries besides the opening and
// closing, with their weights: the domain's and a few external ones.
var genTypes = []struct {
	typ, category, format string
	weight                int
}{
	{"PointsCredited", "account", "Credited %[1]d points (interaction)", 25},
	{"PointsDebited", "account", "Debited %[1]d points (donation)", 15},
	{"InteractionRecorded", "acquaintance", "Interaction: civilian {account:%[2]s} met officer {account:%[3]s} (+%[1]d/+5 points)", 15},
	{"DonationMade", "donation", "Donation of %[1]d points to {account:%[3]s}", 10},
	{"RedemptionMade", "redemption", "Redeemed 1 x MUG-1 for %[1]d points from {account:%[3]s}", 8},
	{"GiveawayMade", "giveaway", "Giveaway of %[1]d points to {account:%[3]s}", 5},
	{"ProfileUpdated", "account", "Profile updated (%[1]d fields)", 5},
	{"SupportCall", "activity", "Support call about a missing voucher, %[1]d minutes", 7},
	{"Newsletter", "activity", "Newsletter opened: spring festival issue %[1]d", 7},
	{"Payment", "activity", "Card payment of %[1]d EUR at the partner shop", 3},
}

// Generate inserts n synthetic entries straight into the event log tables
// readers see (not through events): about n/EventsPerCustomer customers,
// each with an AccountOpened, entries of the types above between opening
// and closing or the end of the year, and for 30% of them an AccountClosed;
// and each customer's row of account_lifetimes. The same seed gives the
// same rows. It is for benchmarks and load tests of the queries; progress,
// when set, is called with the rows inserted so far.
//
// Postgres loads with COPY, SQLite with multi-row INSERTs (its full-text
// index with them). Either way the secondary indexes are dropped for the
// load and built again after it: inserting 10 million rows into five
// indexes of random keys slows to a crawl once they outgrow memory, while
// building an index sorts once. Entry ids are UUIDv7 that
// grow in insertion order, as the event store's do.
func Generate(ctx context.Context, db *projection.DB, n int, seed int64, progress func(int)) error {
	var gen int
	err := db.Write.QueryRowContext(ctx, rebind(db, `SELECT generation FROM projections WHERE name = ?`), Name).Scan(&gen)
	if err != nil {
		return fmt.Errorf("event log: generate: the projection has no tables yet: %w", err)
	}
	table := fmt.Sprintf("%s_event_log_g%d", Name, gen)
	lifetimes := fmt.Sprintf("%s_account_lifetimes_g%d", Name, gen)
	indexes := secondaryIndexes(db.Dialect, map[string]string{"event_log": table, "account_lifetimes": lifetimes})
	for _, ix := range indexes {
		if _, err := db.Write.ExecContext(ctx, `DROP INDEX IF EXISTS `+ix.name); err != nil {
			return fmt.Errorf("event log: generate: drop index %s: %w", ix.name, err)
		}
	}
	if db.Dialect == projection.SQLite {
		// Random ids scatter the index writes: a bigger page cache on the
		// (single) write connection while loading saves most of the I/O.
		var was int64
		if err := db.Write.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&was); err != nil {
			return fmt.Errorf("event log: generate: %w", err)
		}
		if _, err := db.Write.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil {
			return fmt.Errorf("event log: generate: %w", err)
		}
		defer db.Write.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = %d`, was)) //nolint:errcheck // best effort
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	// A millisecond per id from the start of the year keeps them unique
	// and growing, whatever the random bits.
	idSeq := uint64(GenerateStart.UnixMilli())
	id := func() string {
		var b [16]byte
		for i := range 2 {
			v := rng.Uint64()
			for j := range 8 {
				b[i*8+j] = byte(v >> (8 * j))
			}
		}
		idSeq++
		for j := range 6 {
			b[j] = byte(idSeq >> (8 * (5 - j)))
		}
		b[6], b[8] = b[6]&0x0f|0x70, b[8]&0x3f|0x80 // version 7, RFC 4122 variant
		return uuid.UUID(b).String()
	}
	total := 0
	for _, t := range genTypes {
		total += t.weight
	}
	year := GenerateEnd.Sub(GenerateStart)
	var customer, peer string
	var opened, until time.Time
	rows := make([][]any, 0, generateBatch)
	var lifeRows, ftsRows [][]any
	columns := genColumns
	var fts string
	var seq int64 // SQLite: the last rowid, which the full-text index refers to
	if db.Dialect == projection.SQLite {
		columns = append([]string{"seq"}, genColumns...)
		fts = fmt.Sprintf("%s_event_log_fts_g%d", Name, gen)
		if err := db.Write.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM `+table).Scan(&seq); err != nil {
			return fmt.Errorf("event log: generate: %w", err)
		}
	}
	l := &loader{db: db}
	defer l.close()
	for i := range n {
		k := i % EventsPerCustomer
		last := k == EventsPerCustomer-1 || i == n-1
		var typ, category, desc string
		var at time.Time
		switch {
		case k == 0:
			customer, peer = id(), id()
			opened = GenerateStart.Add(time.Duration(rng.Int64N(int64(year / 2))))
			until = GenerateEnd
			if rng.IntN(10) < 3 {
				until = opened.Add(time.Hour + time.Duration(rng.Int64N(int64(GenerateEnd.Sub(opened)-time.Hour))))
			}
			typ, category, desc, at = "AccountOpened", "account", "Account opened (civilian)", opened
		case last && until.Before(GenerateEnd):
			typ, category, desc, at = "AccountClosed", "account", "Account closed", until
			lifeRows = append(lifeRows, []any{customer, opened.UnixMicro(), until.UnixMicro(), until.Sub(opened).Microseconds()})
		default:
			w := rng.IntN(total)
			for _, t := range genTypes {
				if w -= t.weight; w < 0 {
					typ, category = t.typ, t.category
					desc = fmt.Sprintf(t.format, 1+rng.IntN(100), customer, peer)
					break
				}
			}
			at = opened.Add(time.Duration(rng.Int64N(int64(until.Sub(opened)))))
		}
		stream := "account-" + customer
		if category != "account" {
			stream = category + "-" + id()
		}
		row := []any{id(), typ, stream, customer, at.UnixMicro(), desc, `{}`}
		if fts != "" {
			seq++
			row = append([]any{seq}, row...)
			ftsRows = append(ftsRows, []any{seq, searchText(desc), seq})
		}
		rows = append(rows, row)
		if last && typ != "AccountClosed" {
			lifeRows = append(lifeRows, []any{customer, opened.UnixMicro(), nil, nil})
		}
		if len(rows) == generateBatch || i == n-1 {
			if err := l.insert(ctx, table, columns, rows); err != nil {
				return err
			}
			if err := l.insert(ctx, fts, ftsColumns, ftsRows); err != nil {
				return err
			}
			if err := l.insert(ctx, lifetimes, lifetimeColumns, lifeRows); err != nil {
				return err
			}
			rows, lifeRows, ftsRows = rows[:0], lifeRows[:0], ftsRows[:0]
			if progress != nil {
				progress(i + 1)
			}
		}
	}
	if err := l.commit(); err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := db.Write.ExecContext(ctx, ix.create); err != nil {
			return fmt.Errorf("event log: generate: index %s: %w", ix.name, err)
		}
	}
	if db.Dialect == projection.Postgres {
		// A table that grew by COPY has no visibility map and no statistics
		// until autovacuum comes by, which may take minutes: until then an
		// index-only scan visits the heap for every entry. Measure the state
		// the database settles in.
		for _, t := range []string{table, lifetimes} {
			if _, err := db.Write.ExecContext(ctx, `VACUUM ANALYZE `+t); err != nil {
				return fmt.Errorf("event log: generate: vacuum %s: %w", t, err)
			}
		}
	}
	return nil
}

var (
	genColumns      = []string{"id", "type", "stream_id", "customer_id", "occurred_at", "description", "data"}
	lifetimeColumns = []string{"account_id", "opened_at", "closed_at", "lifetime"}
	// SQLite's full-text index is written with the rows, as Apply writes
	// it: a rebuild from the log would index the references too.
	ftsColumns = []string{"rowid", "description", "seq"}
)

// index is one of the projection's secondary indexes, by physical name.
type index struct{ name, create string }

// secondaryIndexes lists the CREATE INDEX statements of the projection's
// tables with their physical names: the indexes a bulk load may drop and
// build again.
func secondaryIndexes(d projection.Dialect, tables map[string]string) []index {
	var out []index
	for _, stmt := range New().Create(d) {
		if !strings.HasPrefix(stmt, "CREATE INDEX ") {
			continue
		}
		for logical, phys := range tables {
			stmt = strings.ReplaceAll(stmt, "{"+logical+"}", phys)
		}
		out = append(out, index{name: strings.Fields(stmt)[2], create: stmt})
	}
	return out
}

// commitEvery is how many generated rows one SQLite transaction holds: a
// commit writes every page it touched to the WAL, and random ids touch
// many, so fewer commits write far less.
const commitEvery = 50_000

// loader writes generated rows: COPY on Postgres; multi-row INSERTs in
// long transactions on SQLite.
type loader struct {
	db   *projection.DB
	tx   *sql.Tx
	rows int
}

func (l *loader) insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if l.db.Dialect == projection.Postgres {
		conn, err := l.db.Write.Conn(ctx)
		if err != nil {
			return fmt.Errorf("event log: generate: %w", err)
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
			if err != nil {
				return fmt.Errorf("event log: generate: copy: %w", err)
			}
			return nil
		})
	}
	if l.tx == nil {
		tx, err := l.db.Write.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("event log: generate: %w", err)
		}
		l.tx = tx
	}
	args := make([]any, 0, len(rows)*len(columns))
	for _, r := range rows {
		args = append(args, r...)
	}
	one := "(" + projection.Placeholders(len(columns)) + ")"
	q := `INSERT INTO ` + table + ` (` + strings.Join(columns, ", ") + `) VALUES ` + one + strings.Repeat(", "+one, len(rows)-1)
	if _, err := l.tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("event log: generate: %w", err)
	}
	if l.rows += len(rows); l.rows >= commitEvery {
		return l.commit()
	}
	return nil
}

// commit ends the open SQLite transaction, if any.
func (l *loader) commit() error {
	if l.tx == nil {
		return nil
	}
	tx := l.tx
	l.tx, l.rows = nil, 0
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("event log: generate: %w", err)
	}
	return nil
}

// close rolls back what was not committed (after a failure).
func (l *loader) close() {
	if l.tx != nil {
		l.tx.Rollback() //nolint:errcheck // the failure is already reported
	}
}
