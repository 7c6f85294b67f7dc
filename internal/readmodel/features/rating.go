package features

import (
	"math"

	"github.com/bluepoint/bluepoint/internal/domain/account"
)

// The rating's weights and the values at which each part is full. They are
// part of the rating's definition: changing one changes every rating, and
// the projection must then be rebuilt.
const (
	weightInteractions = 40
	weightMet          = 20
	weightDays         = 20
	weightGenerosity   = 20

	fullInteractions = 50 // interactions for full marks
	fullMet          = 10 // distinct people met for full marks
	fullDays         = 30 // active days for full marks
)

// Rating scores an account from 0 to 100: how engaged it is with the
// community and how generous it is with what it earns. It is a pure
// function of the features, so a rating can always be recomputed and
// explained.
//
//	score = 40 * part(interactions, 50)
//	      + 20 * part(officers_met + civilians_met, 10)
//	      + 20 * part(days_active, 30)
//	      + 20 * donated / max(earned, donated)     (0 when both are 0)
//	part(x, full) = min(1, ln(1+x) / ln(1+full))
//	rating = round(score); a closed account keeps half, rounded down
//
// Engagement is log-scaled so that the first encounters count most and a
// few very active accounts do not dwarf everyone else; each part is capped
// so that no single behaviour buys the whole rating. Generosity is the
// share of the points the account earned that it gave away (donations and
// giveaways), capped at 1: passing on points received also counts, which
// is how charities and families score. A closed account neither earns nor
// spends, so its past engagement is worth half.
//
// Properties the tests check: the rating never decreases when
// interactions, people met, days active or points donated grow, all else
// equal; closing an account never raises it and lowers any positive one.
func Rating(f Features) int {
	score := weightInteractions*part(f.Interactions, fullInteractions) +
		weightMet*part(f.OfficersMet+f.CiviliansMet, fullMet) +
		weightDays*part(f.DaysActive, fullDays)
	if f.PointsDonated > 0 {
		score += weightGenerosity * float64(f.PointsDonated) / float64(max(f.PointsEarned, f.PointsDonated))
	}
	r := int(math.Round(score))
	r = min(max(r, 0), 100)
	if f.Status == string(account.Closed) {
		r /= 2
	}
	return r
}

// part is x on a log scale, 1 at full and above, 0 for x <= 0.
func part(x, full int64) float64 {
	if x <= 0 {
		return 0
	}
	return min(1, math.Log1p(float64(x))/math.Log1p(float64(full)))
}
