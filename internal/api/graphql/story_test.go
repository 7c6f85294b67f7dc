package graphql

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/projection/projectiontest"
)

// people are the accounts of the story, by id.
type people struct{ civ, off, off2, mer, cha, fam string }

// TestStory drives the platform through GraphQL alone, on every engine:
// each kind signs up, staff verify, a civilian and an officer meet, points
// are donated, given and spent, a rule changes, and then the users-domain
// questions, the event log, analytics and a trace answer for it all, up to
// an erasure.
func TestStory(t *testing.T) {
	projectiontest.ForEachEngine(t, func(t *testing.T, store eventstore.Store, db *projection.DB) {
		e := newEnvOn(t, store, db)
		p := signUpEveryKind(t, e)
		transact(t, e, p)
		e.sync(t)
		askUsersDomain(t, e, p)
		readEventLog(t, e, p)
		erase(t, e, p)
	})
}

func signUpEveryKind(t *testing.T, e *env) people {
	var p people
	p.civ = e.signUp(t, "civ", "CIVILIAN", "Cara Civilian", nil)
	p.off = e.signUp(t, "off", "OFFICER", "Otto Officer", map[string]any{"badgeNumber": "B-1234", "department": "Central"})
	p.off2 = e.signUp(t, "off2", "OFFICER", "Olga Officer", map[string]any{"badgeNumber": "B-5678", "department": "North"})
	p.mer = e.signUp(t, "mer", "MERCHANT", "Mia Merchant", map[string]any{"businessName": "Corner Shop", "address": "1 High Street"})
	p.cha = e.signUp(t, "cha", "CHARITY", "Helping Hands", map[string]any{"registrationNumber": "RC-42"})
	p.fam = e.signUp(t, "fam", "FAMILY", "Fay Family", map[string]any{"householdSize": 4, "sponsorCharityId": p.cha})
	return p
}

// interact has the civilian show an encounter token that the officer
// submits, and returns what the interaction earned.
func interact(t *testing.T, e *env, civ, off string) Interaction {
	tok := gql[struct{ RequestEncounter EncounterToken }](t, e, civ, `mutation { requestEncounter { token expiresAt qrPng } }`, nil)
	if tok.RequestEncounter.QRPng == "" || !tok.RequestEncounter.ExpiresAt.After(time.Now()) {
		t.Fatalf("encounter token %+v", tok.RequestEncounter)
	}
	return gql[struct{ RecordInteraction Interaction }](t, e, off, `mutation($t: String!) {
		recordInteraction(token: $t) { id civilianId officerId civilianPoints officerPoints ruleVersion } }`,
		map[string]any{"t": tok.RequestEncounter.Token}).RecordInteraction
}

func transact(t *testing.T, e *env, p people) {
	if it := interact(t, e, "civ", "off"); it.CivilianID != p.civ || it.OfficerID != p.off ||
		it.CivilianPoints != 10 || it.OfficerPoints != 5 || it.RuleVersion != 1 {
		t.Fatalf("interaction %+v", it)
	}

	donate := `mutation($to: ID!, $points: Int!, $key: String) {
		donate(to: $to, points: $points, note: "for groceries", idempotencyKey: $key) { id fromId toId points bonus ruleVersion } }`
	first := gql[struct{ Donate TransferResult }](t, e, "civ", donate, map[string]any{"to": p.fam, "points": 3, "key": "d-1"}).Donate
	if first.FromID != p.civ || first.ToID != p.fam || first.Points != 3 || first.Bonus != 0 {
		t.Fatalf("donation %+v", first)
	}
	// A retry with the same key is answered from the first; the same key
	// with other arguments is refused.
	again := gql[struct{ Donate TransferResult }](t, e, "civ", donate, map[string]any{"to": p.fam, "points": 3, "key": "d-1"}).Donate
	if again != first {
		t.Fatalf("retry answered %+v, want %+v", again, first)
	}
	refused(t, e, "civ", codeIdempotencyKeyReused, donate, map[string]any{"to": p.fam, "points": 4, "key": "d-1"})
	// Keys are the caller's own: another caller's identical key is a new request.
	refused(t, e, "off", "insufficient_funds", donate, map[string]any{"to": p.fam, "points": 300, "key": "d-1"})

	give := gql[struct{ Give TransferResult }](t, e, "off", `mutation($to: ID!) { give(to: $to, points: 2) { toId points } }`,
		map[string]any{"to": p.off2}).Give
	if give.ToID != p.off2 || give.Points != 2 {
		t.Fatalf("giveaway %+v", give)
	}

	listed := gql[struct{ ListProduct Product }](t, e, "mer", `mutation($m: ID!) {
		listProduct(merchantId: $m, input: {sku: "COFFEE", name: "Coffee", pricePoints: 2, stock: 10}) { sku stock status } }`,
		map[string]any{"m": p.mer}).ListProduct
	if listed.SKU != "COFFEE" || listed.Stock != 10 || listed.Status != ProductStatusListed {
		t.Fatalf("listed %+v", listed)
	}
	red := gql[struct{ Redeem Redemption }](t, e, "civ", `mutation($m: ID!) {
		redeem(merchantId: $m, sku: "COFFEE", quantity: 1, expectedPrice: 2) { id voucherCode points quantity } }`,
		map[string]any{"m": p.mer}).Redeem
	if red.VoucherCode == "" || red.Points != 2 || red.Quantity != 1 {
		t.Fatalf("redemption %+v", red)
	}
	refused(t, e, "civ", "forbidden", `mutation($m: ID!) { restock(merchantId: $m, sku: "COFFEE", quantity: 1) { stock } }`,
		map[string]any{"m": p.mer})
	stock := gql[struct{ Restock Product }](t, e, "mer", `mutation($m: ID!) { restock(merchantId: $m, sku: "COFFEE", quantity: 5) { stock } }`,
		map[string]any{"m": p.mer}).Restock
	if stock.Stock != 14 {
		t.Fatalf("stock after restock %d, want 14", stock.Stock)
	}
	gql[map[string]any](t, e, "mer", `mutation($m: ID!) {
		a: listProduct(merchantId: $m, input: {sku: "TEA", name: "Tea", pricePoints: 1, stock: 1}) { sku }
		b: reprice(merchantId: $m, sku: "TEA", pricePoints: 3) { pricePoints }
		c: delist(merchantId: $m, sku: "TEA") { status } }`, map[string]any{"m": p.mer})

	refused(t, e, "civ", "forbidden", `mutation { changeRule(kind: INTERACTION, points: [{party: "civilian", points: 20}]) { version } }`, nil)
	rule := gql[struct{ ChangeRule Rule }](t, e, e.staff, `mutation {
		changeRule(kind: INTERACTION, points: [{party: "civilian", points: 20}, {party: "officer", points: 10}],
			condition: "counters.pair_today < 5") { kind version points { party points } condition } }`, nil).ChangeRule
	if rule.Version != 2 || rule.Kind != TransactionKindInteraction || len(rule.Points) != 2 || rule.Points[0] != (PartyPoints{"civilian", 20}) {
		t.Fatalf("rule %+v", rule)
	}
	if it := interact(t, e, "civ", "off"); it.CivilianPoints != 20 || it.RuleVersion != 2 {
		t.Fatalf("interaction after the rule change %+v", it)
	}

	gql[map[string]any](t, e, "mer", `mutation($m: ID!) {
		updateProfile(id: $m, input: {name: "Mia Merchant", profile: {businessName: "Corner Shop Ltd", address: "2 High Street"}}) { id } }`,
		map[string]any{"m": p.mer})
	closed := gql[struct{ CloseAccount AccountRef }](t, e, "off2", `mutation($id: ID!) { closeAccount(id: $id, reason: "moving") { status } }`,
		map[string]any{"id": p.off2}).CloseAccount
	if closed.Status != AccountStatusClosed {
		t.Fatalf("closed %+v", closed)
	}
}

func askUsersDomain(t *testing.T, e *env, p people) {
	// A profile, as the account itself sees it.
	type profile struct {
		Account struct {
			ID, Kind, Status                         string
			Name, Email, Phone, BadgeNumber, Address *string
			BusinessName                             *string
			Balance                                  int64
			SponsorCharity                           *struct{ ID string }
		}
	}
	const profileQuery = `query($id: ID!) { account(id: $id) { id kind status name email phone badgeNumber address businessName
		balance sponsorCharity { id } } }`
	civ := gql[profile](t, e, "civ", profileQuery, map[string]any{"id": p.civ}).Account
	if deref(civ.Name) != "Cara Civilian" || deref(civ.Email) != "cara.civilian@example.org" || civ.Balance != 10-3-2+20 {
		t.Fatalf("civilian's own profile %s", pretty(civ))
	}
	off := gql[profile](t, e, "off", profileQuery, map[string]any{"id": p.off}).Account
	if deref(off.BadgeNumber) != "B-1234" || off.Kind != "OFFICER" {
		t.Fatalf("officer's own profile %s", pretty(off))
	}
	mer := gql[profile](t, e, e.staff, profileQuery, map[string]any{"id": p.mer}).Account
	if deref(mer.Address) != "2 High Street" || deref(mer.BusinessName) != "Corner Shop Ltd" {
		t.Fatalf("merchant's profile to staff %s", pretty(mer))
	}
	fam := gql[profile](t, e, "fam", profileQuery, map[string]any{"id": p.fam}).Account
	if fam.SponsorCharity == nil || fam.SponsorCharity.ID != p.cha {
		t.Fatalf("family's sponsor %s", pretty(fam))
	}

	met := gql[struct {
		OfficersMet []struct {
			OfficerID, Department string
			Interactions          int
			Officer               struct{ Kind string }
		}
	}](t, e, "civ", `query($id: ID!) { officersMet(civilianId: $id) { officerId department interactions officer { kind } } }`,
		map[string]any{"id": p.civ}).OfficersMet
	if len(met) != 1 || met[0].OfficerID != p.off || met[0].Interactions != 2 || met[0].Department != "Central" || met[0].Officer.Kind != "OFFICER" {
		t.Fatalf("officers met %s", pretty(met))
	}

	don := gql[struct {
		DonationsTo struct {
			Total, Count int64
			Items        []struct {
				Note string
				From struct{ ID string }
			}
		}
	}](t, e, "fam", `query($id: ID!) { donationsTo(recipientId: $id) { total count items { note from { id } } } }`,
		map[string]any{"id": p.fam}).DonationsTo
	if don.Total != 3 || don.Count != 1 || don.Items[0].From.ID != p.civ || don.Items[0].Note != "for groceries" {
		t.Fatalf("donations %s", pretty(don))
	}

	sales := gql[struct{ MerchantSales Sales }](t, e, "mer", `query($id: ID!) {
		merchantSales(merchantId: $id) { units points products { sku name units points } } }`, map[string]any{"id": p.mer}).MerchantSales
	if sales.Units != 1 || sales.Points != 2 || sales.Products[0].Sku != "COFFEE" {
		t.Fatalf("sales %s", pretty(sales))
	}

	mine := gql[struct {
		Me struct {
			ID           string
			Transactions struct {
				Items      []struct{ Kind string }
				NextCursor *string
			}
			Connections []struct {
				AccountID string
				Depth     int
			}
			Rating *struct{ Score, Interactions int64 }
		}
	}](t, e, "civ", `{ me { id transactions(first: 10) { items { kind } nextCursor }
		connections(depth: 2) { accountId depth } rating { score interactions } } }`, nil).Me
	var kinds []string
	for _, tx := range mine.Transactions.Items {
		kinds = append(kinds, tx.Kind)
	}
	if want := []string{"INTERACTION", "REDEMPTION", "DONATION", "INTERACTION"}; !slices.Equal(kinds, want) || mine.Transactions.NextCursor != nil {
		t.Fatalf("transactions %v, want %v", kinds, want)
	}
	depth := map[string]int{}
	for _, c := range mine.Connections {
		depth[c.AccountID] = c.Depth
	}
	if depth[p.off] != 1 || depth[p.fam] != 1 || depth[p.mer] != 1 || depth[p.off2] != 2 {
		t.Fatalf("connections %v", depth)
	}
	if mine.Rating == nil || mine.Rating.Interactions != 2 || mine.Rating.Score <= 0 {
		t.Fatalf("rating %+v", mine.Rating)
	}

	cat := gql[struct {
		Products []struct {
			SKU, Status string
			Stock       int64
			Merchant    struct{ BusinessName string }
		}
		Rules []Rule
	}](t, e, "civ", `query($m: ID!) { products(merchantId: $m) { sku status stock merchant { businessName } } rules { kind version } }`,
		map[string]any{"m": p.mer})
	if len(cat.Products) != 2 || cat.Products[0].SKU != "COFFEE" || cat.Products[0].Stock != 14 ||
		cat.Products[1].Status != "DELISTED" || cat.Products[0].Merchant.BusinessName != "Corner Shop Ltd" {
		t.Fatalf("products %s", pretty(cat.Products))
	}
	versions := map[TransactionKind]int64{}
	for _, r := range cat.Rules {
		versions[r.Kind] = r.Version
	}
	if len(cat.Rules) != 4 || versions[TransactionKindInteraction] != 2 || versions[TransactionKindDonation] != 1 {
		t.Fatalf("rules %s", pretty(cat.Rules))
	}
}

func readEventLog(t *testing.T, e *env, p people) {
	recorded := gql[struct{ RecordEvent RecordedEvent }](t, e, e.staff, `mutation($c: ID!, $at: Time!) {
		recordEvent(input: {type: "support.call", description: "Called the help line", customerId: $c, occurredAt: $at,
			data: {minutes: 5}}) { id type customerId } }`,
		map[string]any{"c": p.civ, "at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)}).RecordEvent
	// A traced command: its steps are recorded under the caller's trace id.
	const trace = "story-trace-0001"
	if res := e.post(t, request{token: "off", traceID: trace, query: `mutation($to: ID!) { give(to: $to, points: 1) { id } }`,
		vars: map[string]any{"to": p.off2}}); res.code() != "account_closed" {
		t.Fatalf("a giveaway to a closed account: %+v", res.Errors)
	}
	if res := e.post(t, request{token: "civ", traceID: trace, query: `mutation($to: ID!) { donate(to: $to, points: 1) { id } }`,
		vars: map[string]any{"to": p.fam}}); len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	e.sync(t)

	type entry struct {
		ID, Type, Description string
		CustomerID            *string
		Data                  map[string]any
		Customer              *struct{ Kind string }
	}
	all := gql[struct{ Events struct{ Items []entry } }](t, e, e.staff, `{ events(first: 200) {
		items { id type description customerId data customer { kind } } } }`, nil).Events.Items
	types := map[string]int{}
	named := false
	for _, it := range all {
		types[it.Type]++
		named = named || strings.Contains(it.Description, "civilian Cara Civilian met officer Otto Officer")
	}
	for _, typ := range []string{"AccountOpened", "AccountVerified", "InteractionRecorded", "DonationMade", "GiveawayMade",
		"RedemptionMade", "ProductListed", "RuleChanged", "AccountClosed", "support.call"} {
		if types[typ] == 0 {
			t.Errorf("the event log has no %s: %v", typ, types)
		}
	}
	if !named {
		t.Errorf("staff see no names in descriptions: %s", pretty(all))
	}

	// An account lists its own events, named only where it is itself.
	own := gql[struct{ Events struct{ Items []entry } }](t, e, "civ", `query($c: ID!) { events(filter: {customerId: $c, types: ["InteractionRecorded", "support.call"]}) {
		items { id type description data } } }`, map[string]any{"c": p.civ}).Events.Items
	// The external event happened a minute ago: it comes after the two
	// interactions, newest first.
	if len(own) != 3 || own[2].ID != recorded.ID || own[2].Data["minutes"] != float64(5) {
		t.Fatalf("own events %s", pretty(own))
	}
	if d := own[0].Description; !strings.Contains(d, "civilian Cara Civilian met officer "+p.off) {
		t.Fatalf("a civilian's view of an interaction: %q", d)
	}
	refused(t, e, "civ", "forbidden", `query($c: ID!) { events(filter: {customerId: $c}) { items { id } } }`, map[string]any{"c": p.off})

	stats := gql[struct {
		EventTypes        []TypeCount
		CustomerFrequency []Bucket
		TimeSeries        []Bucket
		AccountLifetime   AccountLifetime
	}](t, e, e.staff, `query($c: ID!) { eventTypes(limit: 3) { type count } customerFrequency(customerId: $c, interval: DAY) { start type count }
		timeSeries(type: "AccountOpened", interval: DAY) { start count } accountLifetime { opened closed stillOpenShare medianSeconds } }`,
		map[string]any{"c": p.civ})
	if len(stats.EventTypes) != 3 || stats.EventTypes[0].Count < stats.EventTypes[2].Count || len(stats.CustomerFrequency) == 0 {
		t.Fatalf("analytics %s", pretty(stats))
	}
	if n := stats.TimeSeries[len(stats.TimeSeries)-1].Count; n != 7 { // six sign-ups and the staff member
		t.Fatalf("accounts opened today: %d", n)
	}
	if lt := stats.AccountLifetime; lt.Opened != 7 || lt.Closed != 1 {
		t.Fatalf("account lifetime %+v", lt)
	}

	steps := gql[struct{ Trace Trace }](t, e, e.staff, `query($id: ID!) { trace(id: $id) { traceId steps { step status detail at } } }`,
		map[string]any{"id": trace}).Trace.Steps
	var seen []string
	for _, st := range steps {
		seen = append(seen, st.Step+":"+st.Status)
	}
	for _, want := range []string{"command.Give:rejected", "command.Donate:applied", "projection.users:applied", "projection.eventlog:applied"} {
		if !slices.Contains(seen, want) {
			t.Errorf("trace has no %s: %v", want, seen)
		}
	}
	refused(t, e, "civ", "forbidden", `query($id: ID!) { trace(id: $id) { traceId } }`, map[string]any{"id": trace})
}

func erase(t *testing.T, e *env, p people) {
	gql[map[string]any](t, e, "civ", `mutation($id: ID!) { eraseAccount(id: $id) { id } }`, map[string]any{"id": p.civ})
	e.sync(t)
	civ := gql[struct {
		Account struct {
			Name, Email *string
			Erased      bool
			Balance     int64
		}
	}](t, e, e.staff, `query($id: ID!) { account(id: $id) { name email erased balance } }`, map[string]any{"id": p.civ}).Account
	if !civ.Erased || deref(civ.Name) != pii.Erased || deref(civ.Email) != pii.Erased || civ.Balance != 10-3-2+20-1 {
		t.Fatalf("erased account %+v", civ)
	}
}

// A retried requestEncounter with the same key gets the token it got the
// first time; without a key every request issues a new one.
func TestEncounterRetryGetsTheSameToken(t *testing.T) {
	e := newEnv(t)
	e.signUp(t, "civ", "CIVILIAN", "Cara Civilian", nil)
	request := func(vars map[string]any) string {
		return gql[struct{ RequestEncounter EncounterToken }](t, e, "civ",
			`mutation($k: String) { requestEncounter(idempotencyKey: $k) { token } }`, vars).RequestEncounter.Token
	}
	first, again := request(map[string]any{"k": "enc-1"}), request(map[string]any{"k": "enc-1"})
	if first == "" || again != first {
		t.Fatalf("a retry with the same key got %q, the first request %q", again, first)
	}
	if other := request(map[string]any{"k": "enc-2"}); other == first {
		t.Fatal("another key got the same token")
	}
	if a, b := request(nil), request(nil); a == b {
		t.Fatal("two requests without a key got the same token")
	}
}
