package demo

import (
	"fmt"
	"strings"

	"github.com/bluepoint/bluepoint/internal/domain/account"
)

// mix is the share of each kind in the population, in per cent of the
// accounts; civilians take the rest.
var mix = []struct {
	kind account.Kind
	pct  int
	min  int
}{
	{account.Charity, 5, 1},
	{account.Family, 9, 1},
	{account.Merchant, 10, 1},
	{account.Officer, 16, 2},
}

// plan decides who joins when, who leaves when, and how many transactions
// each day gets, before any command runs, so that a seed always tells the
// same story.
func (w *world) plan() {
	counts := map[account.Kind]int{}
	others := 0
	for _, k := range mix {
		counts[k.kind] = max(k.min, w.p.Accounts*k.pct/100)
		others += counts[k.kind]
	}
	counts[account.Civilian] = w.p.Accounts - others
	// Charities come first so that the founding families find a sponsor.
	for _, k := range []account.Kind{account.Charity, account.Family, account.Merchant, account.Officer, account.Civilian} {
		for i := range counts[k] {
			w.members = append(w.members, w.newMember(k, i))
		}
	}
	// The last civilian signs up at the very end: its email marks a
	// finished load.
	w.marker = w.members[len(w.members)-1]
	w.marker.name, w.marker.email, w.marker.openDay = "Zoe Newman", markerEmail, w.days
	w.members = w.members[:len(w.members)-1]
	w.planClosures()
	w.planQuota()
}

// newMember makes the i-th account of kind k. The first of each kind is a
// login: it is there from the first day and never closes.
func (w *world) newMember(k account.Kind, i int) *member {
	n := len(w.members) + 1
	m := &member{kind: k, closeDay: -1}
	switch k {
	case account.Merchant:
		m.name = shops[w.rng.IntN(len(shops))] + " " + shopKinds[w.rng.IntN(len(shopKinds))]
		m.profile = account.Profile{BusinessName: m.name,
			Address: fmt.Sprintf("%d %s, %s", 1+w.rng.IntN(200), streets[w.rng.IntN(len(streets))], towns[w.rng.IntN(len(towns))])}
	case account.Charity:
		m.name = fmt.Sprintf(charities[w.rng.IntN(len(charities))], towns[w.rng.IntN(len(towns))])
		m.profile = account.Profile{RegistrationNumber: fmt.Sprintf("CH-%06d", 100000+w.rng.IntN(900000))}
	default:
		m.name = firstNames[w.rng.IntN(len(firstNames))] + " " + lastNames[w.rng.IntN(len(lastNames))]
	}
	switch k {
	case account.Officer:
		m.profile = account.Profile{BadgeNumber: fmt.Sprintf("PD-%05d", n), Department: departments[w.rng.IntN(len(departments))]}
	case account.Family:
		m.profile = account.Profile{HouseholdSize: 1 + w.rng.IntN(7)}
	}
	if w.rng.IntN(2) == 0 {
		// The range Ofcom keeps for drama: no real person has these numbers.
		m.phone = fmt.Sprintf("+447700900%03d", w.rng.IntN(1000))
	}
	m.email = fmt.Sprintf("%s.%d@%s", slug(m.name), n, EmailDomain)
	switch {
	case i == 0:
		m.login, m.name, m.email = true, loginNames[k], string(k)+"@"+EmailDomain
		if k == account.Merchant {
			m.profile.BusinessName = m.name
		}
	case w.rng.IntN(100) < 40:
		// The founding members join on the first day.
	default:
		m.openDay = 1 + w.rng.IntN(max(1, w.days*11/12))
	}
	return m
}

// planClosures closes about one account in 25 (civilians, officers and
// merchants; never a login), at least a month after it opened when the
// year allows.
func (w *world) planClosures() {
	want := max(1, len(w.members)/25)
	for tries := 0; want > 0 && tries < 100*len(w.members); tries++ {
		m := w.members[w.rng.IntN(len(w.members))]
		if m.closeDay >= 0 || m.login ||
			(m.kind != account.Civilian && m.kind != account.Officer && m.kind != account.Merchant) {
			continue
		}
		first := m.openDay + min(30, (w.days-m.openDay)/2)
		if first >= w.days {
			continue
		}
		m.closeDay = first + w.rng.IntN(w.days-first)
		if m.closeDay == m.openDay {
			m.closeDay++ // a day that opens an account closes none before it
		}
		if m.closeDay >= w.days {
			m.closeDay = -1
			continue
		}
		want--
	}
}

// planQuota spreads the transactions over the days in proportion to the
// accounts open on each, so activity grows with the population.
func (w *world) planQuota() {
	weight := make([]int, w.days)
	total := 0
	for d := range w.days {
		for _, m := range w.members {
			if m.openDay <= d && (m.closeDay < 0 || d < m.closeDay) {
				weight[d]++
			}
		}
		total += weight[d]
	}
	w.quota = make([]int, w.days)
	placed, cum := 0, 0
	for d := range w.days {
		cum += weight[d]
		upto := w.p.Transactions * cum / total
		w.quota[d] = upto - placed
		placed = upto
	}
}

// slug makes an email's local part from a name.
func slug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			b.WriteByte('.')
		default:
			if a, ok := ascii[r]; ok {
				b.WriteRune(a)
			}
		}
	}
	return strings.Trim(b.String(), ".")
}

var ascii = map[rune]rune{'á': 'a', 'à': 'a', 'ã': 'a', 'é': 'e', 'è': 'e', 'í': 'i', 'ó': 'o', 'ö': 'o', 'ü': 'u', 'ú': 'u', 'ç': 'c', 'ñ': 'n', 'ł': 'l', 'ø': 'o'}
