package graphql

import (
	"fmt"
	"slices"
	"testing"
)

// pages reads a list a page at a time, each after the cursor that the page
// before gave, until one gives none; no page holds more than first items.
func pages[T any](t *testing.T, first int, page func(after *string) ([]T, *string)) []T {
	t.Helper()
	var all []T
	var after *string
	for n := 1; ; n++ {
		items, next := page(after)
		if len(items) > first || n > 20 {
			t.Fatalf("page %d holds %d items, asked for %d", n, len(items), first)
		}
		all = append(all, items...)
		if next == nil {
			return all
		}
		after = next
	}
}

// lastCursor is the after of the page that follows a list whose items
// carry their cursors: none once a page is shorter than first.
func lastCursor(first int, cursors []string) *string {
	if len(cursors) < first {
		return nil
	}
	return &cursors[len(cursors)-1]
}

// TestPages walks the officers a civilian met, its connections and a
// merchant's sales a page at a time, at the root and on an account, and
// checks the arguments that page them.
func TestPages(t *testing.T) {
	e := newEnv(t)
	civ := e.signUp(t, "civ", "CIVILIAN", "Cara Civilian", nil)
	var officers []string
	for i := range 3 {
		token := fmt.Sprintf("off%d", i)
		officers = append(officers, e.signUp(t, token, "OFFICER", fmt.Sprintf("Officer %c", 'A'+i),
			map[string]any{"badgeNumber": fmt.Sprintf("B-%d", i), "department": "Central"}))
		interact(t, e, "civ", token)
	}
	mer := e.signUp(t, "mer", "MERCHANT", "Mia Merchant", map[string]any{"businessName": "Corner Shop", "address": "1 High Street"})
	for _, sku := range []string{"P-A", "P-B", "P-C"} {
		gql[map[string]any](t, e, "mer", `mutation($m: ID!, $sku: String!) {
			listProduct(merchantId: $m, input: {sku: $sku, name: $sku, pricePoints: 1, stock: 10}) { sku } }`,
			map[string]any{"m": mer, "sku": sku})
	}
	for _, sku := range []string{"P-B", "P-A", "P-B"} {
		gql[map[string]any](t, e, "civ", `mutation($m: ID!, $sku: String!) { redeem(merchantId: $m, sku: $sku) { id } }`,
			map[string]any{"m": mer, "sku": sku})
	}
	e.sync(t)

	type officerMet struct{ OfficerID, Cursor string }
	metCursors := func(met []officerMet) (c []string) {
		for _, m := range met {
			c = append(c, m.Cursor)
		}
		return c
	}
	// Met one after the other: the last met first.
	wantMet := []string{officers[2], officers[1], officers[0]}
	for first := 1; first <= 4; first++ {
		root := pages(t, first, func(after *string) ([]officerMet, *string) {
			met := gql[struct{ OfficersMet []officerMet }](t, e, "civ", `query($c: ID!, $n: Int, $a: String) {
				officersMet(civilianId: $c, first: $n, after: $a) { officerId cursor } }`,
				map[string]any{"c": civ, "n": first, "a": after}).OfficersMet
			return met, lastCursor(first, metCursors(met))
		})
		mine := pages(t, first, func(after *string) ([]officerMet, *string) {
			met := gql[struct {
				Me struct{ OfficersMet []officerMet }
			}](t, e, "civ", `query($n: Int, $a: String) {
				me { officersMet(first: $n, after: $a) { officerId cursor } } }`, map[string]any{"n": first, "a": after}).Me.OfficersMet
			return met, lastCursor(first, metCursors(met))
		})
		var ids []string
		for _, m := range root {
			ids = append(ids, m.OfficerID)
		}
		if !slices.Equal(ids, wantMet) || !slices.Equal(root, mine) {
			t.Fatalf("%d at a time: officers met %v and %v, want %v", first, root, mine, wantMet)
		}
	}

	type connection struct {
		AccountID, Cursor string
		Depth             int
	}
	wantLinked := append(slices.Clone(officers), mer)
	slices.Sort(wantLinked)
	for first := 1; first <= 5; first++ {
		linked := pages(t, first, func(after *string) ([]connection, *string) {
			conns := gql[struct{ Connections []connection }](t, e, "civ", `query($c: ID!, $n: Int, $a: String) {
				connections(accountId: $c, depth: 1, first: $n, after: $a) { accountId depth cursor } }`,
				map[string]any{"c": civ, "n": first, "a": after}).Connections
			var cursors []string
			for _, c := range conns {
				cursors = append(cursors, c.Cursor)
			}
			return conns, lastCursor(first, cursors)
		})
		var ids []string
		for _, c := range linked {
			ids = append(ids, c.AccountID)
		}
		if !slices.Equal(ids, wantLinked) {
			t.Fatalf("%d at a time: connections %v, want %v", first, linked, wantLinked)
		}
	}

	// Best-selling first, then by SKU; every page has the totals.
	wantSold := []ProductSales{{Sku: "P-B", Name: "P-B", Units: 2, Points: 2}, {Sku: "P-A", Name: "P-A", Units: 1, Points: 1}, {Sku: "P-C", Name: "P-C"}}
	for first := 1; first <= 4; first++ {
		sold := pages(t, first, func(after *string) ([]ProductSales, *string) {
			sales := gql[struct{ Account struct{ Sales Sales } }](t, e, "mer", `query($m: ID!, $n: Int, $a: String) {
				account(id: $m) { sales(first: $n, after: $a) { units points products { sku name units points } nextCursor } } }`,
				map[string]any{"m": mer, "n": first, "a": after}).Account.Sales
			if sales.Units != 3 || sales.Points != 3 {
				t.Fatalf("a page of sales has the totals %d units and %d points", sales.Units, sales.Points)
			}
			return sales.Products, sales.NextCursor
		})
		if !slices.Equal(sold, wantSold) {
			t.Fatalf("%d at a time: sales %+v, want %+v", first, sold, wantSold)
		}
	}

	// Donations, newest first; every page has the total and count.
	cha := e.signUp(t, "cha", "CHARITY", "Helping Hands", map[string]any{"registrationNumber": "RC-42"})
	for _, points := range []int{5, 6, 7} {
		gql[map[string]any](t, e, "civ", `mutation($to: ID!, $p: Int!) { donate(to: $to, points: $p) { id } }`,
			map[string]any{"to": cha, "p": points})
	}
	e.sync(t)
	type donation struct {
		FromID, ToID string
		Points       int64
	}
	wantGiven := []donation{{civ, cha, 7}, {civ, cha, 6}, {civ, cha, 5}}
	for first := 1; first <= 4; first++ {
		for _, q := range []string{
			`query($c: ID!, $n: Int, $a: String) { donationsTo(recipientId: $c, first: $n, after: $a) { total count items { fromId toId points } nextCursor } }`,
			`query($c: ID!, $n: Int, $a: String) { account(id: $c) { donationsReceived(first: $n, after: $a) { total count items { fromId toId points } nextCursor } } }`,
		} {
			given := pages(t, first, func(after *string) ([]donation, *string) {
				res := gql[struct {
					DonationsTo struct {
						Total, Count int64
						Items        []donation
						NextCursor   *string
					}
					Account struct {
						DonationsReceived struct {
							Total, Count int64
							Items        []donation
							NextCursor   *string
						}
					}
				}](t, e, "cha", q, map[string]any{"c": cha, "n": first, "a": after})
				d := res.DonationsTo
				if d.Count == 0 {
					d = res.Account.DonationsReceived
				}
				if d.Total != 18 || d.Count != 3 {
					t.Fatalf("a page of donations has the total %d and count %d", d.Total, d.Count)
				}
				return d.Items, d.NextCursor
			})
			if !slices.Equal(given, wantGiven) {
				t.Fatalf("%d at a time: donations %+v, want %+v", first, given, wantGiven)
			}
		}
	}

	for _, c := range []struct{ token, query, field string }{
		{"cha", `query($id: ID!) { donationsTo(recipientId: $id, after: "not a cursor") { total } }`, "after"},
		{"cha", `query($id: ID!) { donationsTo(recipientId: $id, first: 0) { total } }`, "first"},
		{"civ", `query($id: ID!) { officersMet(civilianId: $id, after: "not a cursor") { officerId } }`, "after"},
		{"civ", `query($id: ID!) { connections(accountId: $id, after: "not a cursor") { accountId } }`, "after"},
		{"mer", `query($id: ID!) { merchantSales(merchantId: $id, after: "not a cursor") { units } }`, "after"},
		{"civ", `query($id: ID!) { officersMet(civilianId: $id, first: 0) { officerId } }`, "first"},
		{"civ", `query($id: ID!) { connections(accountId: $id, first: 501) { accountId } }`, "first"},
		{"mer", `query($id: ID!) { merchantSales(merchantId: $id, first: 501) { units } }`, "first"},
	} {
		id := map[string]string{"civ": civ, "mer": mer, "cha": cha}[c.token]
		res := refused(t, e, c.token, "invalid", c.query, map[string]any{"id": id})
		if res.Errors[0].Extensions["field"] != c.field {
			t.Fatalf("%s: %+v", c.query, res.Errors[0])
		}
	}
}
