package features_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bluepoint/bluepoint/internal/readmodel/features"
)

func sortByID(fs []features.Features) {
	slices.SortFunc(fs, func(a, b features.Features) int { return strings.Compare(a.AccountID, b.AccountID) })
}

func TestRatingTable(t *testing.T) {
	for _, c := range []struct {
		name string
		f    features.Features
		want int
	}{
		{"nothing yet", features.Features{Status: "active"}, 0},
		{"one interaction, one day", features.Features{Interactions: 1, OfficersMet: 1, DaysActive: 1}, 17}, // 40*0.176 + 20*0.289 + 20*0.202 = 16.9
		{"full engagement", features.Features{Interactions: 50, OfficersMet: 10, DaysActive: 30}, 80},
		{"beyond full is capped", features.Features{Interactions: 5000, CiviliansMet: 900, DaysActive: 900}, 80},
		{"full and gave all it earned", features.Features{Interactions: 50, OfficersMet: 10, DaysActive: 30, PointsEarned: 100, PointsDonated: 100}, 100},
		{"gave half", features.Features{PointsEarned: 100, PointsDonated: 50}, 10},
		{"passes on what it received", features.Features{PointsReceived: 80, PointsDonated: 80}, 20},
		{"closed keeps half, rounded down", features.Features{Status: "closed", Interactions: 50, OfficersMet: 10, DaysActive: 30, PointsEarned: 10, PointsDonated: 10}, 50},
		{"closed with 1 goes to 0", features.Features{Status: "closed", PointsEarned: 100, PointsDonated: 5}, 0},
	} {
		if got := features.Rating(c.f); got != c.want {
			t.Errorf("%s: rating %d, want %d", c.name, got, c.want)
		}
	}
}

// grid is a spread of feature values, for the monotonicity checks.
func grid() []features.Features {
	vals := []int64{0, 1, 2, 5, 10, 49, 50, 51, 1000}
	var out []features.Features
	for _, i := range vals {
		for _, m := range vals[:6] {
			for _, d := range vals {
				for _, g := range []int64{0, 1, 10, 100} {
					for _, s := range []string{"active", "pending", "closed"} {
						out = append(out, features.Features{Status: s, Interactions: i, OfficersMet: m, DaysActive: d,
							PointsEarned: 50, PointsDonated: g})
					}
				}
			}
		}
	}
	return out
}

// More of any engagement or of giving never lowers the rating, all else
// equal; closing never raises it and lowers any positive rating; every
// rating is within 0..100.
func TestRatingMonotonic(t *testing.T) {
	grow := map[string]func(*features.Features){
		"interactions": func(f *features.Features) { f.Interactions++ },
		"officers met": func(f *features.Features) { f.OfficersMet++ },
		"days active":  func(f *features.Features) { f.DaysActive++ },
		"donated":      func(f *features.Features) { f.PointsDonated++ },
	}
	for _, f := range grid() {
		r := features.Rating(f)
		if r < 0 || r > 100 {
			t.Fatalf("%+v: rating %d out of range", f, r)
		}
		for name, g := range grow {
			more := f
			g(&more)
			if rm := features.Rating(more); rm < r {
				t.Fatalf("one more %s lowered the rating from %d to %d: %+v", name, r, rm, f)
			}
		}
		if f.Status == "closed" {
			continue
		}
		closed := f
		closed.Status = "closed"
		if rc := features.Rating(closed); rc > r || (r > 0 && rc >= r) {
			t.Fatalf("closing %+v: rating %d -> %d", f, r, rc)
		}
	}
}
