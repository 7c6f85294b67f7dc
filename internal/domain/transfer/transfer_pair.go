package transfer

import "time"

// pairDays is how many distinct days a Pair remembers counts for: enough
// for a daily cap, and a weekly one, while the state stays a fixed-size
// value that Evolve copies without sharing memory between states.
const pairDays = 7

// Pair is the state of a civilian/officer pair, folded from its
// InteractionRecorded events (stream PairStreamID). The handler builds the
// rules' pair counters from it (pair_today is CountOn(now)), and because
// the pair stream is appended at the version it was loaded at, two
// concurrent interactions of one pair cannot both slip past a daily cap:
// the second append fails and is retried on the count the first left.
type Pair struct {
	CivilianID string
	OfficerID  string
	// Total is the number of interactions the pair ever had.
	Total int64
	// LastAt is the time of the latest interaction.
	LastAt time.Time
	// recent counts interactions on the latest distinct UTC days.
	recent [pairDays]dayCount
}

// dayCount is the number of interactions on one UTC day, counted in days
// since 1970-01-01; n == 0 marks an unused slot.
type dayCount struct {
	day int64
	n   int64
}

// InitialPair returns the state of a pair that never interacted.
func InitialPair() Pair { return Pair{} }

// Exists reports whether the pair interacted at least once.
func (p Pair) Exists() bool { return p.Total > 0 }

// CountOn returns the number of interactions the pair had on the UTC day of
// day. It knows the latest seven days on which the pair interacted; an
// older day counts 0.
func (p Pair) CountOn(day time.Time) int64 {
	d := dayNumber(day)
	for _, c := range p.recent {
		if c.n > 0 && c.day == d {
			return c.n
		}
	}
	return 0
}

// EvolvePair applies one event to the pair. It ignores event types it does
// not know, so that an older binary can fold a stream a newer one wrote to.
func EvolvePair(p Pair, event any) Pair {
	e, ok := event.(InteractionRecorded)
	if !ok {
		return p
	}
	p.CivilianID, p.OfficerID = e.CivilianID, e.OfficerID
	p.Total++
	if e.RecordedAt.After(p.LastAt) {
		p.LastAt = e.RecordedAt
	}
	d := dayNumber(e.RecordedAt)
	oldest := 0
	for i, c := range p.recent {
		if c.n > 0 && c.day == d {
			p.recent[i].n++
			return p
		}
		if c.n == 0 || (p.recent[oldest].n > 0 && c.day < p.recent[oldest].day) {
			oldest = i
		}
	}
	// A day older than all seven remembered ones is not remembered: it
	// cannot be today, which is what the rules ask about.
	if p.recent[oldest].n > 0 && d < p.recent[oldest].day {
		return p
	}
	p.recent[oldest] = dayCount{day: d, n: 1}
	return p
}

// dayNumber returns the UTC day of t as days since 1970-01-01.
func dayNumber(t time.Time) int64 {
	secs := t.Unix()
	d := secs / 86400
	if secs%86400 < 0 {
		d--
	}
	return d
}
