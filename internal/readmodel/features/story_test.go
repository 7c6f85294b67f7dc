package features_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/readmodel/features"
	"github.com/bluepoint/bluepoint/internal/service"
)

// model computes the expected features by following the story step by
// step, with the rules' default prices written out.
type model struct {
	f    map[string]*features.Features
	days map[string]map[string]bool
	met  map[[2]string]bool
}

func newModel() *model {
	return &model{f: map[string]*features.Features{}, days: map[string]map[string]bool{}, met: map[[2]string]bool{}}
}

func (m *model) touch(id string, at time.Time) *features.Features {
	f := m.f[id]
	if f == nil {
		f = &features.Features{AccountID: id, FirstActivity: at}
		m.f[id], m.days[id] = f, map[string]bool{}
	}
	m.days[id][at.Format("2006-01-02")] = true
	f.DaysActive = int64(len(m.days[id]))
	f.LastActivity = at
	return f
}

// story is the workload: three days of a civilian, two officers, a charity
// and a merchant. It returns the civilian and the officers.
func story(t *testing.T, w *world, m *model) (civ, o1, o2 service.Actor) {
	now := w.clock.Now
	must := func(_ *command.Outcome, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	step := func() { w.clock.Advance(7 * time.Minute) }
	m.touch(w.staff.ID, now()).Kind, m.f[w.staff.ID].Status = "staff", "active"
	open := func(kind account.Kind, email string, verify bool) service.Actor {
		step()
		a := w.open(t, kind, email)
		f := m.touch(a.ID, now())
		f.Kind, f.Status = string(kind), string(kind.InitialStatus())
		if verify {
			step()
			w.verify(t, a.ID)
			m.touch(a.ID, now()).Status = "active"
		}
		return a
	}
	interact := func(c, o service.Actor) {
		step()
		w.interact(t, c, o)
		first := !m.met[[2]string{c.ID, o.ID}]
		m.met[[2]string{c.ID, o.ID}] = true
		fc, fo := m.touch(c.ID, now()), m.touch(o.ID, now())
		fc.Interactions, fc.PointsEarned = fc.Interactions+1, fc.PointsEarned+10
		fo.Interactions, fo.PointsEarned = fo.Interactions+1, fo.PointsEarned+5
		if first {
			fc.OfficersMet++
			fo.CiviliansMet++
		}
	}
	civ = open(account.Civilian, "civ@example.org", false)
	o1 = open(account.Officer, "o1@example.org", true)
	o2 = open(account.Officer, "o2@example.org", true)
	charity := open(account.Charity, "charity@example.org", true)
	merchant := open(account.Merchant, "shop@example.org", false)
	interact(civ, o1)
	interact(civ, o1)
	interact(civ, o2)

	w.clock.Advance(24 * time.Hour) // day 2
	interact(civ, o1)
	step()
	must(w.svc.Donate(ctxT(t), service.Call{Actor: civ}, charity.ID, 25, "for the shelter"))
	f := m.touch(civ.ID, now())
	f.PointsDonated, f.PointsEarned = f.PointsDonated+25, f.PointsEarned+1 // bonus for >= 10
	m.touch(charity.ID, now()).PointsReceived += 25
	step()
	must(w.svc.Give(ctxT(t), service.Call{Actor: o1}, o2.ID, 5))
	m.touch(o1.ID, now()).PointsDonated += 5
	m.touch(o2.ID, now()).PointsReceived += 5

	w.clock.Advance(24 * time.Hour) // day 3
	step()
	must(w.svc.ListProduct(ctxT(t), service.Call{Actor: merchant}, merchant.ID, "MUG-1", "Mug", 10, 5))
	step()
	must(w.svc.Redeem(ctxT(t), service.Call{Actor: civ}, merchant.ID, "MUG-1", 1, 10))
	f = m.touch(civ.ID, now())
	f.PointsRedeemed, f.Redemptions = f.PointsRedeemed+10, f.Redemptions+1
	m.touch(merchant.ID, now()).PointsReceived += 10
	step()
	must(w.svc.GrantBonus(ctxT(t), service.Call{Actor: w.staff}, civ.ID, 7, "welcome"))
	m.touch(civ.ID, now()).PointsEarned += 7

	w.clock.Advance(24 * time.Hour) // day 4
	step()
	must(w.svc.CloseAccount(ctxT(t), service.Call{Actor: o2}, o2.ID, "moved away"))
	m.touch(o2.ID, now()).Status = "closed"
	for _, f := range m.f {
		f.Rating = int64(features.Rating(*f))
	}
	return civ, o1, o2
}

func TestStoryFeatures(t *testing.T) {
	forEachDB(t, func(t *testing.T, w *world) {
		m := newModel()
		civ, o1, o2 := story(t, w, m)
		w.rebuild(t)
		// The three main characters, feature by feature, with the numbers
		// the model derived checked against hand arithmetic too.
		want := map[string]features.Features{
			civ.ID: {Kind: "civilian", Status: "active", Interactions: 4, OfficersMet: 2, PointsEarned: 48,
				PointsDonated: 25, PointsRedeemed: 10, Redemptions: 1, DaysActive: 3},
			o1.ID: {Kind: "officer", Status: "active", Interactions: 3, CiviliansMet: 1, PointsEarned: 15,
				PointsDonated: 5, DaysActive: 2},
			o2.ID: {Kind: "officer", Status: "closed", Interactions: 1, CiviliansMet: 1, PointsEarned: 5,
				PointsReceived: 5, DaysActive: 3},
		}
		for id, hand := range want {
			exp := *m.f[id]
			hand.AccountID, hand.FirstActivity, hand.LastActivity, hand.Rating = id, exp.FirstActivity, exp.LastActivity, exp.Rating
			if hand != exp {
				t.Fatalf("the model disagrees with hand arithmetic:\n model %+v\n hand  %+v", exp, hand)
			}
			got, err := features.Get(ctxT(t), w.db, id)
			if err != nil {
				t.Fatal(err)
			}
			if !same(got, exp) {
				t.Errorf("account %s:\n got  %+v\n want %+v", id, got, exp)
			}
		}
		// Every other account too.
		for id, exp := range m.f {
			if got, err := features.Get(ctxT(t), w.db, id); err != nil || !same(got, *exp) {
				t.Errorf("account %s: got %+v (%v), want %+v", id, got, err, *exp)
			}
		}
		if _, err := features.Get(ctxT(t), w.db, "nobody"); !errors.Is(err, features.ErrNotFound) {
			t.Fatalf("unknown account: %v", err)
		}
		if r := m.f[o2.ID].Rating; r == 0 || r >= int64(features.Rating(withStatus(*m.f[o2.ID], "active"))) {
			t.Fatalf("closing did not lower o2's rating %d", r)
		}
	})
}

// Events of different streams may come in any order: applying every
// stream's events in reverse stream order (each stream still in order)
// gives the same rows as the global log's order.
func TestCrossStreamOrderDoesNotMatter(t *testing.T) {
	forEachDB(t, func(t *testing.T, w *world) {
		story(t, w, newModel())
		w.rebuild(t)
		evs, err := w.store.ReadAll(ctxT(t), &eventstore.ReadAllParams{After: eventstore.Start, Limit: 10000,
			Categories: features.New().Categories()})
		if err != nil {
			t.Fatal(err)
		}
		var streams []string
		byStream := map[string][]eventstore.Event{}
		for _, e := range evs {
			if byStream[e.StreamID] == nil {
				streams = append(streams, e.StreamID)
			}
			byStream[e.StreamID] = append(byStream[e.StreamID], e)
		}
		slices.Reverse(streams)
		other := openSQLite(t)
		r := newRunner(t, w.store, other)
		for _, s := range streams {
			for _, e := range byStream[s] {
				if err := r.Apply(ctxT(t), features.Name, e); err != nil {
					t.Fatal(err)
				}
			}
		}
		if a, b := exportCSV(t, w.db), exportCSV(t, other); a != b {
			t.Fatalf("global order:\n%s\nreversed streams:\n%s", a, b)
		}
	})
}

func withStatus(f features.Features, s string) features.Features {
	f.Status = s
	return f
}

// same compares features, times by instant.
func same(a, b features.Features) bool {
	ta, tb := [2]time.Time{a.FirstActivity, a.LastActivity}, [2]time.Time{b.FirstActivity, b.LastActivity}
	a.FirstActivity, a.LastActivity, b.FirstActivity, b.LastActivity = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b && ta[0].Equal(tb[0]) && ta[1].Equal(tb[1])
}
