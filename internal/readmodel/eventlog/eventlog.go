// Package eventlog is the read model of every event, domain and external,
// as one searchable log: id, type, stream, customer, time, a readable
// description and the event's data, with analytics over it (the events
// log of seed 003).
//
// Descriptions are generated per event type when the event is applied and
// hold {account:<id>} references instead of names (names are personal
// data, sealed in the events); Render resolves them when a description is
// read, for a reader who may see them.
//
// Times are stored as microseconds since the Unix epoch (UTC) on both
// dialects: they sort and compare as integers, and day buckets are integer
// arithmetic that both dialects compute alike.
//
// Full-text search covers descriptions: on SQLite an FTS5 table over the
// log (external content, so the text is stored once), kept in step by
// Apply; on Postgres a GIN index over the description's tsvector. Both use
// language-neutral word splitting ("simple" on Postgres, unicode61 on
// SQLite): no stemming, whole words, every word of the query must appear.
// Neither indexes the {account:<id>} references: they are not words a
// reader sees (a reference reads as the account's name, or not at all),
// and a uuid splits into six words of its own, which made the index most
// of the cost of writing an entry.
package eventlog

import (
	"github.com/bluepoint/bluepoint/internal/codec"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/service"
)

// searchVector is the indexed expression full-text queries must repeat
// exactly for Postgres to use the index. It leaves out the {account:<id>}
// references (see searchText); Postgres's regular expressions read
// refExpr as Go's do.
const searchVector = `to_tsvector('simple', regexp_replace(description, '` + refExpr + `', ' ', 'g'))`

// Name is the projection's name, for the runner and for rebuilds.
const Name = "eventlog"

// Projection keeps the event log. It holds only the codec, so one value
// serves every runner.
type Projection struct {
	codec *codec.Registry
}

// New returns the projection, decoding events with the service's codec so
// that it reads them exactly as the service wrote them.
func New() *Projection { return &Projection{codec: service.NewCodec()} }

// Name implements projection.Projection.
func (*Projection) Name() string { return Name }

// Categories implements projection.Projection: every category, since the
// log is of everything.
func (*Projection) Categories() []string {
	return []string{"account", "donation", "giveaway", "redemption", "acquaintance", "product", "rule", "activity"}
}

// Tables implements projection.Projection. event_log_fts is the SQLite
// full-text index; on Postgres the index is a column of event_log and
// event_log_fts is an empty table kept so that both dialects have the same
// logical tables. account_lifetimes holds one row per account (opened, and
// closed when it was): the account-lifetime analytics read it rather than
// pair openings and closings over the whole log.
func (*Projection) Tables() []string {
	return []string{"event_log", "event_log_fts", "account_lifetimes"}
}

// View implements projection.Viewer. On SQLite the full-text index's seq
// is its rowid: read through the view as the rowid, a search reads no
// stored row, where the seq column of an external-content index is read
// from event_log, one row per match.
func (*Projection) View(d projection.Dialect, table string) (string, bool) {
	if d == projection.SQLite && table == "event_log_fts" {
		return "rowid AS seq, description", true
	}
	return "", false
}

// Create implements projection.Projection. The indexes serve the queries:
// a customer's events by time, a type's events by time (and a type's
// counts), and all events by time. No query reads by stream, so there is
// no index by stream: each index costs every event a write. The index by
// time carries the type, so that counting a range's types reads the index
// alone (on a million entries, 250 ms -> 12 ms on Postgres).
func (*Projection) Create(d projection.Dialect) []string {
	byTime := `CREATE INDEX {event_log}_time ON {event_log} (occurred_at, id, type)`
	if d == projection.Postgres {
		byTime = `CREATE INDEX {event_log}_time ON {event_log} (occurred_at, id) INCLUDE (type)`
	}
	idx := []string{
		byTime,
		`CREATE INDEX {event_log}_customer ON {event_log} (customer_id, occurred_at, id)`,
		`CREATE INDEX {event_log}_type ON {event_log} (type, occurred_at, id)`,
		// lifetime is closed_at - opened_at, NULL while open: its index
		// gives the count of closed accounts and any percentile by rank.
		`CREATE TABLE {account_lifetimes} (account_id TEXT PRIMARY KEY, opened_at BIGINT NOT NULL,
			closed_at BIGINT, lifetime BIGINT)`,
		`CREATE INDEX {account_lifetimes}_lifetime ON {account_lifetimes} (lifetime)`,
	}
	if d == projection.Postgres {
		// The C collation makes id order byte order, and the indexes cheap.
		return append([]string{
			`CREATE TABLE {event_log} (
				id TEXT COLLATE "C" PRIMARY KEY, type TEXT COLLATE "C" NOT NULL,
				stream_id TEXT COLLATE "C" NOT NULL, customer_id TEXT COLLATE "C" NOT NULL,
				occurred_at BIGINT NOT NULL, description TEXT NOT NULL, data TEXT NOT NULL)`,
			// An expression index rather than a stored tsvector column: a
			// rebuild writes half the bytes and computes the words once,
			// when the index is built after the rows are in.
			`CREATE INDEX {event_log}_search ON {event_log} USING GIN (` + searchVector + `)`,
			`CREATE TABLE {event_log_fts} (seq BIGINT PRIMARY KEY)`,
		}, idx...)
	}
	return append([]string{
		// seq is the rowid the FTS5 index refers to.
		`CREATE TABLE {event_log} (
			seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
			stream_id TEXT NOT NULL, customer_id TEXT NOT NULL,
			occurred_at INTEGER NOT NULL, description TEXT NOT NULL, data TEXT NOT NULL)`,
		// unicode61 is FTS5's default tokenizer. Stating it changed the
		// schema hash when the index began to leave the references out, so
		// that a read model whose index holds them is rebuilt.
		`CREATE VIRTUAL TABLE {event_log_fts} USING fts5(description, seq UNINDEXED,
			content='{event_log}', content_rowid='seq', tokenize='unicode61')`,
	}, idx...)
}
