package users_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/readmodel/users"
	"github.com/bluepoint/bluepoint/internal/service"
)

// checkWalks reads a list a page at a time with every limit from 1 to one
// more than the list holds, and wants want each time: every page full but
// the last, none empty after the first, no item twice or missing, in
// order. Cursors it did not issue are invalid input on the field cursor.
func checkWalks[T any](t *testing.T, want []T, page func(limit int, cursor string) ([]T, string, error)) {
	t.Helper()
	for limit := 1; limit <= len(want)+1; limit++ {
		var got []T
		for cursor, pages := "", 1; ; pages++ {
			items, next, err := page(limit, cursor)
			if err != nil {
				t.Fatalf("limit %d, page %d: %v", limit, pages, err)
			}
			if len(items) > limit || next != "" && len(items) != limit || next == "" && len(items) == 0 && len(got) > 0 {
				t.Fatalf("limit %d, page %d: %d items, next %q", limit, pages, len(items), next)
			}
			got = append(got, items...)
			if next == "" {
				break
			}
			if pages > len(want) {
				t.Fatalf("limit %d: more pages than items", limit)
			}
			cursor = next
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%d at a time:\n got %+v\nwant %+v", limit, got, want)
		}
	}
	enc := base64.RawURLEncoding.EncodeToString
	for _, c := range []string{"not a cursor", enc([]byte("no separator")), enc([]byte("not a key|x")), enc([]byte("12|")), enc([]byte("|x"))} {
		if _, _, err := page(1, c); !errors.Is(err, &domain.Error{Code: domain.CodeInvalid, Field: "cursor"}) {
			t.Fatalf("cursor %q: %v", c, err)
		}
	}
}

// again sets the clock back a minute, so that what the test does next
// happens at the same instant as what it did last.
func (c *clock) again() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(-time.Minute)
}

// TestPagesBreakTies lists officers met at the same instant, products
// sold in the same numbers and accounts at the same depth: the pages break
// the ties by id (or SKU), and a walk at any page size lists each once.
func TestPagesBreakTies(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		w := &world{people: map[string]*person{}, erased: map[string]bool{}}
		must(t)(e.svc.ChangeRule(ctxT(t), service.Call{Actor: e.staff}, "interaction", map[string]int64{"civilian": 20, "officer": 5}, ""))
		civ := e.open(t, w, account.Civilian, "Cleo Civil", "cleo@example.org", "", account.Profile{})
		civ2 := e.open(t, w, account.Civilian, "Cruz Civil", "cruz@example.org", "", account.Profile{})
		var off []*person
		for i := range 5 {
			off = append(off, e.open(t, w, account.Officer, fmt.Sprintf("Officer %d", i), fmt.Sprintf("officer%d@example.org", i), "",
				account.Profile{BadgeNumber: fmt.Sprintf("B-%d", i), Department: "Central"}))
		}
		// Officers 3 and 4 first, at one instant; then 0, 2 and 4 again
		// at a later one; then 1 alone, whom a second civilian meets too.
		meet := func(sameInstant bool, o *person) {
			if sameInstant {
				e.clock.again()
			}
			e.interact(t, w, civ, o)
		}
		meet(false, off[3])
		meet(true, off[4])
		meet(false, off[0])
		meet(true, off[2])
		meet(true, off[4])
		meet(false, off[1])
		e.interact(t, w, civ2, off[1])

		mer := e.open(t, w, account.Merchant, "Mona Shop", "mona@example.org", "", account.Profile{BusinessName: "Mona's", Address: "2 Side St"})
		me := service.Call{Actor: mer.actor}
		for _, sku := range []string{"P-A", "P-B", "P-C", "P-D", "P-E"} {
			must(t)(e.svc.ListProduct(ctxT(t), me, mer.actor.ID, sku, "Product "+sku, 1, 10))
		}
		e.redeem(t, w, civ, mer, "P-C", 2, 1)
		e.redeem(t, w, civ, mer, "P-E", 1, 1)
		e.redeem(t, w, civ, mer, "P-A", 1, 1)
		if err := e.runner.Rebuild(ctxT(t), "users", nil); err != nil {
			t.Fatal(err)
		}

		open := users.Opener(func(ctx context.Context, s string) (string, error) { return e.svc.Cipher().Open(ctx, s) })
		met := wantOfficersMet(w, civ.actor.ID)
		if len(met) != 5 || !met[1].LastMet.Equal(met[3].LastMet) || !met[3].LastMet.After(met[4].LastMet) {
			t.Fatalf("the officers met have no ties: %+v", met)
		}
		checkWalks(t, met, func(limit int, cursor string) ([]users.OfficerMet, string, error) {
			return users.OfficersMet(ctxT(t), e.db, civ.actor.ID, open, limit, cursor)
		})

		sales := users.Sales{Units: 4, Points: 4, Products: []users.ProductSales{
			{SKU: "P-C", Name: "Product P-C", Units: 2, Points: 2}, {SKU: "P-A", Name: "Product P-A", Units: 1, Points: 1},
			{SKU: "P-E", Name: "Product P-E", Units: 1, Points: 1}, {SKU: "P-B", Name: "Product P-B"}, {SKU: "P-D", Name: "Product P-D"}}}
		checkWalks(t, sales.Products, salesPages(t, e, mer.actor.ID, sales))

		for d := 1; d <= users.MaxDepth; d++ {
			linked := wantConnections(w, civ.actor.ID, d)
			checkWalks(t, linked, func(limit int, cursor string) ([]users.Connection, string, error) {
				return users.Connections(ctxT(t), e.db, civ.actor.ID, d, limit, cursor)
			})
		}
	})
}
