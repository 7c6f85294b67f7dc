// Package features is the read model behind ratings and machine learning:
// one row of numbers per account, kept up to date from the events, with a
// rating from 0 to 100 and an export of the whole data set as CSV or
// Parquet.
//
// The features, per account (account_id is the key):
//
//   - kind, status: from the account's stream (empty until AccountOpened is
//     seen; an interaction seen first fills in the kind it implies).
//   - interactions: encounters the account took part in, as civilian or as
//     officer (InteractionRecorded).
//   - officers_met: distinct officers a civilian has met; civilians_met:
//     distinct civilians an officer has met. Each is 0 for the other kinds.
//   - points_earned: points created for the account by the rules: interaction
//     awards, the bonuses of donations, giveaways and redemptions, and bonuses
//     granted by staff or automations. Every credit that is not a transfer
//     from another account.
//   - points_received: points transferred to the account by other accounts:
//     donations and giveaways received, and a merchant's sales.
//   - points_donated: points the account gave away: donations and giveaways.
//   - points_redeemed: points the account spent on redemptions; redemptions
//     counts them.
//   - days_active: distinct UTC days on which the account had any event of
//     its own stream or took part in an interaction.
//   - first_activity, last_activity: the earliest and latest of those events.
//   - rating: see Rating.
//
// Points are read from the ledger entries (PointsCredited, PointsDebited) of
// the account streams, classified by their reason, rather than from the
// transaction records: every movement of points has exactly one ledger
// entry per account, including bonuses that have no transaction record,
// so nothing is counted twice or missed. The transaction streams are
// therefore not read; the pair streams (category acquaintance) are, for
// interactions and who met whom.
//
// Events of different streams may arrive in any order, so every event
// creates its account's row on first sight, and counters only ever add.
package features

import (
	"time"

	"github.com/bluepoint/bluepoint/internal/codec"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/service"
)

// Name is the projection's name, for the runner and for rebuilds.
const Name = "features"

// Features are one account's numbers. The struct tags name the columns of
// the CSV and Parquet exports, which are the data set's public schema.
type Features struct {
	AccountID      string    `json:"account_id" parquet:"account_id"`
	Kind           string    `json:"kind" parquet:"kind"`
	Status         string    `json:"status" parquet:"status"`
	Interactions   int64     `json:"interactions" parquet:"interactions"`
	OfficersMet    int64     `json:"officers_met" parquet:"officers_met"`
	CiviliansMet   int64     `json:"civilians_met" parquet:"civilians_met"`
	PointsEarned   int64     `json:"points_earned" parquet:"points_earned"`
	PointsDonated  int64     `json:"points_donated" parquet:"points_donated"`
	PointsReceived int64     `json:"points_received" parquet:"points_received"`
	PointsRedeemed int64     `json:"points_redeemed" parquet:"points_redeemed"`
	Redemptions    int64     `json:"redemptions" parquet:"redemptions"`
	DaysActive     int64     `json:"days_active" parquet:"days_active"`
	FirstActivity  time.Time `json:"first_activity" parquet:"first_activity,timestamp(microsecond)"`
	LastActivity   time.Time `json:"last_activity" parquet:"last_activity,timestamp(microsecond)"`
	Rating         int64     `json:"rating" parquet:"rating"`
}

// Projection keeps the features. It is stateless apart from the codec, so
// one value serves every runner.
type Projection struct {
	codec *codec.Registry
}

// New returns the projection, decoding events with the service's codec so
// that it reads them exactly as the service wrote them.
func New() *Projection { return &Projection{codec: service.NewCodec()} }

// Name implements projection.Projection.
func (*Projection) Name() string { return Name }

// Categories implements projection.Projection: the account streams (status
// and ledger) and the pair streams (interactions).
func (*Projection) Categories() []string {
	return []string{account.Category, transfer.PairCategory}
}

// Tables implements projection.Projection. account_officers and
// account_days exist to count distinct officers and days exactly, one
// event at a time.
func (*Projection) Tables() []string {
	return []string{"account_features", "account_officers", "account_days"}
}

// Create implements projection.Projection. Times are TEXT in one fixed
// UTC format, which sorts as time does on both dialects; on Postgres the
// key uses the C collation so that the export's order is byte order.
func (*Projection) Create(d projection.Dialect) []string {
	key := "TEXT"
	if d == projection.Postgres {
		key = `TEXT COLLATE "C"`
	}
	return []string{
		`CREATE TABLE {account_features} (
			account_id ` + key + ` PRIMARY KEY,
			kind TEXT NOT NULL, status TEXT NOT NULL,
			interactions BIGINT NOT NULL, officers_met BIGINT NOT NULL, civilians_met BIGINT NOT NULL,
			points_earned BIGINT NOT NULL, points_donated BIGINT NOT NULL,
			points_received BIGINT NOT NULL, points_redeemed BIGINT NOT NULL,
			redemptions BIGINT NOT NULL, days_active BIGINT NOT NULL,
			first_activity TEXT NOT NULL, last_activity TEXT NOT NULL,
			rating INTEGER NOT NULL)`,
		`CREATE TABLE {account_officers} (civilian_id TEXT NOT NULL, officer_id TEXT NOT NULL,
			PRIMARY KEY (civilian_id, officer_id))`,
		`CREATE TABLE {account_days} (account_id TEXT NOT NULL, day TEXT NOT NULL,
			PRIMARY KEY (account_id, day))`,
	}
}

var _ projection.Projection = (*Projection)(nil)
