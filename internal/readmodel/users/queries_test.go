package users_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/readmodel/users"
)

func TestUsersReadModel(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		w, c := e.story(t)
		if err := e.runner.Rebuild(ctxT(t), "users", nil); err != nil {
			t.Fatal(err)
		}
		open := users.Opener(func(ctx context.Context, s string) (string, error) { return e.svc.Cipher().Open(ctx, s) })
		checkProfiles(t, e, w, open)
		checkOfficersMet(t, e, w, c, open)
		checkDonations(t, e, w, c)
		checkSales(t, e, c)
		checkConnections(t, e, w, c)
		checkPages(t, e, w, c)

		// Every event delivered again, and a rebuild from scratch, change
		// nothing.
		before := snapshot(t, e, w, open)
		for after := eventstore.Start; ; {
			batch, err := e.store.ReadAll(ctxT(t), &eventstore.ReadAllParams{After: after, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(batch) == 0 {
				break
			}
			for _, ev := range batch {
				if err := e.runner.Apply(ctxT(t), "users", ev); err != nil {
					t.Fatal(err)
				}
			}
			after = batch[len(batch)-1].Position
		}
		if again := snapshot(t, e, w, open); again != before {
			t.Fatalf("applying every event twice changed the read model:\n%s\nthen\n%s", before, again)
		}
		if err := e.runner.Rebuild(ctxT(t), "users", nil); err != nil {
			t.Fatal(err)
		}
		if again := snapshot(t, e, w, open); again != before {
			t.Fatalf("a rebuild changed the read model:\n%s\nthen\n%s", before, again)
		}
	})
}

func checkProfiles(t *testing.T, e *env, w *world, open users.Opener) {
	for id, p := range w.people {
		got, err := users.Profile(ctxT(t), e.db, id, open)
		if err != nil {
			t.Fatalf("profile %s: %v", p.in.Name, err)
		}
		status, closedAt := p.actor.Kind.InitialStatus(), time.Time{}
		if !p.verified.IsZero() {
			status = account.Active
		}
		name, email, phone := p.in.Name, p.in.Email, p.in.Phone
		if w.erased[id] {
			name, email, phone = pii.Erased, pii.Erased, pii.Erased
		}
		last := p.openedAt
		for _, tx := range w.txs {
			if (tx.FromID == id || tx.ToID == id) && tx.At.After(last) {
				last = tx.At
			}
		}
		want := users.Account{ID: id, Kind: p.actor.Kind, Status: status, Name: name, Email: email, Phone: phone,
			BusinessName: p.in.Profile.BusinessName, Department: p.in.Profile.Department,
			RegistrationNumber: p.in.Profile.RegistrationNumber, HouseholdSize: p.in.Profile.HouseholdSize,
			SponsorCharityID: p.in.Profile.SponsorCharityID, Balance: p.balance, OpenedAt: p.openedAt,
			VerifiedAt: p.verified, ClosedAt: closedAt, Erased: w.erased[id], LastActivityAt: last}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("profile of %s:\n got %+v\nwant %+v", p.in.Name, got, want)
		}
		if st, err := e.svc.Account(ctxT(t), id); err != nil || st.Balance != p.balance {
			t.Errorf("%s: the service says balance %d (%v), the test %d", p.in.Name, st.Balance, err, p.balance)
		}
		hidden, err := users.Profile(ctxT(t), e.db, id, nil)
		if err != nil || hidden.Name != "" || hidden.Email != "" || hidden.Phone != "" || hidden.Balance != p.balance {
			t.Errorf("without an opener %s reads %+v, %v", p.in.Name, hidden, err)
		}
		// The table itself holds sealed tokens (or nothing, once erased).
		var stored string
		q := `SELECT email FROM accounts WHERE id = ?`
		if e.db.Dialect == projection.Postgres {
			q = projection.Rebind(q)
		}
		if err := e.db.Read.QueryRowContext(ctxT(t), q, id).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if w.erased[id] && stored != "" || !w.erased[id] && !pii.IsSealed(stored) {
			t.Errorf("%s: stored email %q", p.in.Name, stored)
		}
	}
	// All the names in one query, an unknown id left out.
	ids, want := []string{"no-such-account"}, map[string]string{}
	for id, p := range w.people {
		ids, want[id] = append(ids, id), p.in.Name
		if w.erased[id] {
			want[id] = pii.Erased
		}
	}
	if got, err := users.Names(ctxT(t), e.db, ids, open); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("names: %v, %v; want %v", got, err, want)
	}
	if got, err := users.Names(ctxT(t), e.db, ids, nil); err != nil || len(got) != 0 {
		t.Errorf("names without an opener: %v, %v", got, err)
	}
	_, err := users.Profile(ctxT(t), e.db, "no-such-account", nil)
	if !errors.Is(err, users.ErrNotFound) || domain.As(err) == nil || domain.As(err).Code != domain.CodeNotFound {
		t.Fatalf("unknown account: %v", err)
	}
}

func checkOfficersMet(t *testing.T, e *env, w *world, c cast, open users.Opener) {
	want := wantOfficersMet(w, c.civ.actor.ID)
	got, next, err := users.OfficersMet(ctxT(t), e.db, c.civ.actor.ID, open, 0, "")
	if err != nil || next != "" || !reflect.DeepEqual(got, want) {
		t.Fatalf("officers met:\n got %+v, %q, %v\nwant %+v", got, next, err, want)
	}
	if len(want) != 2 || want[0].Interactions != 2 || want[1].Name != pii.Erased {
		t.Fatalf("the story changed: %+v", want)
	}
	checkWalks(t, want, func(limit int, cursor string) ([]users.OfficerMet, string, error) {
		return users.OfficersMet(ctxT(t), e.db, c.civ.actor.ID, open, limit, cursor)
	})
}

// wantOfficersMet is what the test made of a civilian's interactions, in
// the order OfficersMet promises: the most recently met first, then by
// officer id.
func wantOfficersMet(w *world, civilianID string) []users.OfficerMet {
	met := map[string]*users.OfficerMet{}
	for _, tx := range w.txs {
		if tx.Kind != users.KindInteraction || tx.FromID != civilianID {
			continue
		}
		o := met[tx.ToID]
		if o == nil {
			p := w.people[tx.ToID]
			o = &users.OfficerMet{OfficerID: tx.ToID, Name: p.in.Name, Department: p.in.Profile.Department}
			if w.erased[tx.ToID] {
				o.Name = pii.Erased
			}
			met[tx.ToID] = o
		}
		o.Interactions++
		o.LastMet = tx.At
	}
	want := []users.OfficerMet{}
	for _, o := range met {
		want = append(want, *o)
	}
	sort.Slice(want, func(i, j int) bool {
		a, b := want[i], want[j]
		return a.LastMet.After(b.LastMet) || a.LastMet.Equal(b.LastMet) && a.OfficerID < b.OfficerID
	})
	return want
}

func checkDonations(t *testing.T, e *env, w *world, c cast) {
	want := users.Donations{Items: []users.Transaction{}}
	for i := len(w.txs) - 1; i >= 0; i-- {
		if tx := w.txs[i]; tx.Kind == users.KindDonation && tx.ToID == c.family.actor.ID {
			want.Items = append(want.Items, tx)
			want.Total += tx.Points
			want.Count++
		}
	}
	got, err := users.DonationsTo(ctxT(t), e.db, c.family.actor.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("donations to the family:\n got %+v, %v\nwant %+v", got, err, want)
	}
	if want.Total != 23 || want.Count != 3 {
		t.Fatalf("the story changed: %+v", want)
	}
	// A page at a time: the same donations, and every page carries the
	// totals of all of them.
	checkWalks(t, want.Items, func(limit int, cursor string) ([]users.Transaction, string, error) {
		page, next, err := users.DonationsPage(ctxT(t), e.db, c.family.actor.ID, limit, cursor)
		if err == nil && (page.Total != want.Total || page.Count != want.Count) {
			t.Fatalf("a page of donations has the totals %d and %d", page.Total, page.Count)
		}
		return page.Items, next, err
	})
}

func checkSales(t *testing.T, e *env, c cast) {
	want := users.Sales{Units: 3, Points: 13, Products: []users.ProductSales{
		{SKU: "TEA-1", Name: "Tea", Units: 2, Points: 6}, {SKU: "MUG-1", Name: "Mug", Units: 1, Points: 7}, {SKU: "SOAP-1", Name: "Soap"}}}
	got, next, err := users.MerchantSales(ctxT(t), e.db, c.merchant.actor.ID, 0, "")
	if err != nil || next != "" || !reflect.DeepEqual(got, want) {
		t.Fatalf("merchant sales:\n got %+v, %q, %v\nwant %+v", got, next, err, want)
	}
	checkWalks(t, want.Products, salesPages(t, e, c.merchant.actor.ID, want))
}

// salesPages reads pages of a merchant's sales, each of which must carry
// the totals of all its products.
func salesPages(t *testing.T, e *env, merchantID string, want users.Sales) func(int, string) ([]users.ProductSales, string, error) {
	return func(limit int, cursor string) ([]users.ProductSales, string, error) {
		page, next, err := users.MerchantSales(ctxT(t), e.db, merchantID, limit, cursor)
		if err == nil && (page.Units != want.Units || page.Points != want.Points) {
			t.Fatalf("a page of sales has the totals %d units and %d points, want %d and %d", page.Units, page.Points, want.Units, want.Points)
		}
		return page.Products, next, err
	}
}

// checkConnections compares the recursive query with a breadth-first walk
// of the transactions the test made.
func checkConnections(t *testing.T, e *env, w *world, c cast) {
	start := c.civ.actor.ID
	for d := 1; d <= users.MaxDepth; d++ {
		want := wantConnections(w, start, d)
		got, next, err := users.Connections(ctxT(t), e.db, start, d, 0, "")
		if err != nil || next != "" || !reflect.DeepEqual(got, want) {
			t.Fatalf("connections at depth %d:\n got %+v, %q, %v\nwant %+v", d, got, next, err, want)
		}
		checkWalks(t, want, func(limit int, cursor string) ([]users.Connection, string, error) {
			return users.Connections(ctxT(t), e.db, start, d, limit, cursor)
		})
	}
	depthOf := map[string]int{}
	for _, conn := range wantConnections(w, start, users.MaxDepth) {
		depthOf[conn.AccountID] = conn.Depth
	}
	if depthOf[c.off3.actor.ID] != 2 || depthOf[c.civ2.actor.ID] != 3 {
		t.Fatalf("the story changed: %v", depthOf)
	}
	for _, d := range []int{0, 4} {
		if _, _, err := users.Connections(ctxT(t), e.db, start, d, 0, ""); domain.As(err) == nil {
			t.Fatalf("depth %d accepted: %v", d, err)
		}
	}
}

// wantConnections walks the transactions the test made breadth first, up
// to depth hops from start, and lists what it reached in the order
// Connections promises: nearest first, then by account id.
func wantConnections(w *world, start string, depth int) []users.Connection {
	depthOf := map[string]int{start: 0}
	frontier := []string{start}
	for d := 1; d <= depth; d++ {
		var next []string
		for _, id := range frontier {
			for _, tx := range w.txs {
				other := ""
				switch id {
				case tx.FromID:
					other = tx.ToID
				case tx.ToID:
					other = tx.FromID
				}
				if _, seen := depthOf[other]; other != "" && !seen {
					depthOf[other] = d
					next = append(next, other)
				}
			}
		}
		frontier = next
	}
	want := []users.Connection{}
	for id, d := range depthOf {
		if id != start {
			want = append(want, users.Connection{AccountID: id, Kind: w.people[id].actor.Kind, Depth: d})
		}
	}
	sort.Slice(want, func(i, j int) bool {
		return want[i].Depth < want[j].Depth || want[i].Depth == want[j].Depth && want[i].AccountID < want[j].AccountID
	})
	return want
}

func checkPages(t *testing.T, e *env, w *world, c cast) {
	id := c.civ.actor.ID
	want := []users.Transaction{}
	for i := len(w.txs) - 1; i >= 0; i-- {
		if w.txs[i].FromID == id || w.txs[i].ToID == id {
			want = append(want, w.txs[i])
		}
	}
	if len(want) != 8 {
		t.Fatalf("the story changed: %+v", want)
	}
	checkWalks(t, want, func(limit int, cursor string) ([]users.Transaction, string, error) {
		return users.AccountTransactions(ctxT(t), e.db, id, limit, cursor)
	})
}

// snapshot renders every query's answer for every account, so that two
// states of the read model compare as strings.
func snapshot(t *testing.T, e *env, w *world, open users.Opener) string {
	var b strings.Builder
	ids := make([]string, 0, len(w.people))
	for id := range w.people {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p, err1 := users.Profile(ctxT(t), e.db, id, open)
		o, _, err2 := users.OfficersMet(ctxT(t), e.db, id, open, users.MaxPageSize, "")
		d, err3 := users.DonationsTo(ctxT(t), e.db, id)
		s, _, err4 := users.MerchantSales(ctxT(t), e.db, id, users.MaxPageSize, "")
		c, _, err5 := users.Connections(ctxT(t), e.db, id, users.MaxDepth, users.MaxPageSize, "")
		x, _, err6 := users.AccountTransactions(ctxT(t), e.db, id, users.MaxPageSize, "")
		if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%+v\n%+v\n%+v\n%+v\n%+v\n%+v\n", p, o, d, s, c, x)
	}
	return b.String()
}
