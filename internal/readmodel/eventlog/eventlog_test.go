package eventlog_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/readmodel/eventlog"
)

// listAll pages through a listing and checks the pages as it goes.
func listAll(t *testing.T, e *env, f eventlog.Filter, limit int) []eventlog.Entry {
	t.Helper()
	var all []eventlog.Entry
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		items, next, err := eventlog.List(ctxT(t), e.db, f, limit, cursor)
		if err != nil {
			t.Fatalf("list %+v: %v", f, err)
		}
		if len(items) > limit || (next != "" && len(items) != limit) || pages > 1000 {
			t.Fatalf("page of %d items (limit %d), next %q", len(items), limit, next)
		}
		for _, it := range items {
			if seen[it.ID] {
				t.Fatalf("%s listed twice", it.ID)
			}
			seen[it.ID] = true
		}
		all = append(all, items...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

func ids(entries []eventlog.Entry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.ID)
	}
	return out
}

func rowIDs(rows []row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.id)
	}
	return out
}

func TestListingsMatchTheEvents(t *testing.T) {
	forEachEnv(t, start, func(t *testing.T, e *env) {
		s := play(t, e)
		e.rebuild(t)
		want := expected(t, e.store)
		all := listAll(t, e, eventlog.Filter{}, 7)
		if !slices.Equal(ids(all), rowIDs(want)) {
			t.Fatalf("the whole log, paged by 7:\n got %v\nwant %v", ids(all), rowIDs(want))
		}
		for i, entry := range all {
			w := want[i]
			if entry.Type != w.typ || entry.StreamID != w.stream || entry.CustomerID != w.customer || !entry.OccurredAt.Equal(w.at) {
				t.Errorf("entry %+v, want %+v", entry, w)
			}
		}
		from, to := time.Date(2025, 1, 28, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC)
		types := []string{"DonationMade", "PointsCredited", "SupportCall"}
		cases := []struct {
			name string
			f    eventlog.Filter
			keep func(row) bool
		}{
			{"customer", eventlog.Filter{CustomerID: s.civ.ID}, func(r row) bool { return r.customer == s.civ.ID }},
			{"types", eventlog.Filter{Types: types}, func(r row) bool { return slices.Contains(types, r.typ) }},
			{"range", eventlog.Filter{From: from, To: to}, func(r row) bool { return !r.at.Before(from) && r.at.Before(to) }},
			{"customer, types and range", eventlog.Filter{CustomerID: s.civ.ID, Types: types, From: from, To: to}, func(r row) bool {
				return r.customer == s.civ.ID && slices.Contains(types, r.typ) && !r.at.Before(from) && r.at.Before(to)
			}},
			{"a word", eventlog.Filter{Q: "festival"}, func(r row) bool { return r.id == s.external["SupportCall"] || r.id == s.external["Complaint"] }},
			{"two words", eventlog.Filter{Q: "Spring, festival!"}, func(r row) bool { return r.id == s.external["SupportCall"] }},
			{"a word and a type", eventlog.Filter{Q: "festival", Types: []string{"Complaint"}}, func(r row) bool { return r.id == s.external["Complaint"] }},
			{"a generated description", eventlog.Filter{Q: "donation of"}, func(r row) bool { return r.typ == "DonationMade" }},
			// "account" is also in every {account:<id>} reference, which
			// the index leaves out.
			{"not the references", eventlog.Filter{Q: "account"}, func(r row) bool {
				return r.typ == "AccountOpened" || r.typ == "AccountVerified" || r.typ == "AccountClosed"
			}},
		}
		for _, c := range cases {
			wantIDs := rowIDs(where(want, c.keep))
			for _, limit := range []int{1, 3, 200} {
				if got := ids(listAll(t, e, c.f, limit)); !slices.Equal(got, wantIDs) || len(wantIDs) == 0 {
					t.Errorf("%s (limit %d):\n got %v\nwant %v", c.name, limit, got, wantIDs)
				}
			}
		}
		_, _, err := eventlog.List(ctxT(t), e.db, eventlog.Filter{}, 10, "not-a-cursor")
		if !errors.Is(err, eventlog.ErrInvalidCursor) {
			t.Fatalf("a bad cursor: %v", err)
		}
		if _, _, err := eventlog.List(ctxT(t), e.db, eventlog.Filter{}, 201, ""); err == nil {
			t.Fatal("a limit above 200 must be refused")
		}
		if items, _, err := eventlog.List(ctxT(t), e.db, eventlog.Filter{}, 0, ""); err != nil || len(items) != min(len(want), eventlog.DefaultLimit) {
			t.Fatalf("default limit: %d items, %v", len(items), err)
		}
	})
}

func TestGetAndRender(t *testing.T) {
	forEachEnv(t, start, func(t *testing.T, e *env) {
		s := play(t, e)
		e.rebuild(t)
		ext, err := eventlog.Get(ctxT(t), e.db, s.external["SupportCall"])
		if err != nil || ext.Type != "SupportCall" || ext.CustomerID != s.civ.ID || string(ext.Data) != `{"source":"desk"}` ||
			ext.Description != "Asked about the spring festival tickets" || !strings.HasPrefix(ext.StreamID, "activity-") {
			t.Fatalf("external event %+v, %v", ext, err)
		}
		if _, err := eventlog.Get(ctxT(t), e.db, "no-such-id"); !errors.Is(err, eventlog.ErrNotFound) {
			t.Fatalf("missing id: %v", err)
		}
		all := listAll(t, e, eventlog.Filter{}, 200)
		names := func(id string) string { return s.names[id] }
		rendered := map[string]string{}
		for _, entry := range all {
			for _, n := range s.names {
				if strings.Contains(entry.Description, n) {
					t.Errorf("stored description %q holds the name %q", entry.Description, n)
				}
			}
			rendered[entry.Type] = eventlog.Render(entry.Description, names)
		}
		for typ, want := range map[string]string{
			"DonationMade":        "Donation of 20 points to Hope Shelter",
			"InteractionRecorded": "Interaction: civilian Ana Perez met officer Bob Brown (+10/+5 points)",
			"RedemptionMade":      "Redeemed 1 x MUG-1 for 30 points from Carla Costa",
			"AccountVerified":     "Account verified by Olga Operator",
			"ProductRedeemed":     "Sold 1 x MUG-1 for 30 points to Ana Perez; 9 in stock",
		} {
			if !strings.HasPrefix(rendered[typ], want) {
				t.Errorf("%s renders as %q, want it to start with %q", typ, rendered[typ], want)
			}
		}
		opened := listAll(t, e, eventlog.Filter{CustomerID: s.charity.ID, Types: []string{"AccountOpened"}}, 10)
		if len(opened) != 1 || opened[0].Description != "Account opened (charity, awaiting verification)" {
			t.Fatalf("charity opening %+v", opened)
		}
		if got := eventlog.Render("to {account:x} and {account:y}", func(id string) string { return "<" + id + ">" }); got != "to <x> and <y>" {
			t.Fatalf("render: %q", got)
		}
	})
}
