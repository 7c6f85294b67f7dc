package eventlog_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/service"
)

// start is a Monday; the story runs into March, so weeks straddle a month.
var start = time.Date(2025, 1, 27, 9, 0, 0, 0, time.UTC)

// story is what the test did, to check the log against.
type story struct {
	civ, off, charity, merchant service.Actor
	names                       map[string]string // account id -> name
	lifetimes                   []time.Duration   // of the accounts it closed
	external                    map[string]string // type -> id of one external event
}

// play drives the service through a small story plus external events.
func play(t *testing.T, e *env) *story {
	s := &story{names: map[string]string{e.staff.ID: "Olga Operator"}, external: map[string]string{}}
	open := func(kind account.Kind, name string, p account.Profile) service.Actor {
		a := e.open(t, kind, name, p)
		s.names[a.ID] = name
		return a
	}
	s.civ = open(account.Civilian, "Ana Perez", account.Profile{})
	s.off = open(account.Officer, "Bob Brown", account.Profile{BadgeNumber: "B-17", Department: "Central"})
	s.charity = open(account.Charity, "Hope Shelter", account.Profile{RegistrationNumber: "CH-1"})
	s.merchant = open(account.Merchant, "Carla Costa", account.Profile{BusinessName: "Corner Shop", Address: "1 Main St"})
	if _, err := e.svc.ListProduct(ctxT(t), service.Call{Actor: s.merchant}, s.merchant.ID, "MUG-1", "Mug", 30, 10); err != nil {
		t.Fatal(err)
	}
	for day := range 2 {
		for range 3 {
			e.interact(t, s.civ, s.off)
			e.clock.Advance(time.Minute)
		}
		e.clock.Advance(24*time.Hour - 3*time.Minute)
		_ = day
	}
	e.clock.Advance(4 * 24 * time.Hour) // Sunday 2 February
	if _, err := e.svc.Donate(ctxT(t), service.Call{Actor: s.civ}, s.charity.ID, 20, "for the shelter"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(24 * time.Hour) // Monday 3 February
	if _, err := e.svc.Redeem(ctxT(t), service.Call{Actor: s.civ}, s.merchant.ID, "MUG-1", 1, 30); err != nil {
		t.Fatal(err)
	}
	// Five accounts closed after known times.
	var short []service.Actor
	for _, n := range []string{"Lia One", "Lia Two", "Lia Three", "Lia Four", "Lia Five"} {
		short = append(short, open(account.Civilian, n, account.Profile{}))
	}
	lived := time.Duration(0)
	for i, d := range []time.Duration{time.Hour, 2 * time.Hour, 5 * time.Hour, 24 * time.Hour, 72 * time.Hour} {
		e.clock.Advance(d - lived)
		lived = d
		if _, err := e.svc.CloseAccount(ctxT(t), service.Call{Actor: short[i]}, short[i].ID, "moving away"); err != nil {
			t.Fatal(err)
		}
		s.lifetimes = append(s.lifetimes, d)
	}
	s.external["SupportCall"] = e.record(t, "SupportCall", "Asked about the spring festival tickets", s.civ.ID,
		time.Date(2025, 1, 20, 10, 0, 0, 0, time.UTC))
	s.external["Newsletter"] = e.record(t, "Newsletter", "Opened the February newsletter", s.civ.ID,
		time.Date(2025, 2, 5, 12, 0, 0, 0, time.UTC))
	s.external["Payment"] = e.record(t, "Payment", "Card payment at a partner shop", "", e.clock.Now().Add(-time.Hour))
	e.clock.Advance(25 * 24 * time.Hour) // into March
	s.external["Complaint"] = e.record(t, "Complaint", "Voucher for the festival arrived late", s.civ.ID,
		time.Date(2025, 3, 3, 8, 30, 0, 0, time.UTC))
	return s
}

// row is one expected log entry, derived from the raw events with a
// table of field names: independent of the projection's decoding.
type row struct {
	id, typ, stream, customer string
	at                        time.Time
}

var customerField = map[string]string{
	"DonationMade": "from", "GiveawayMade": "from", "RedemptionMade": "redeemer_id",
	"InteractionRecorded": "civilian_id", "RuleChanged": "", "ActivityRecorded": "customer_id",
}

func expected(t *testing.T, st eventstore.Store) []row {
	var out []row
	after := eventstore.Start
	for {
		batch, err := st.ReadAll(ctxT(t), &eventstore.ReadAllParams{After: after, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		for _, ev := range batch {
			var m map[string]any
			if err := json.Unmarshal(ev.Data, &m); err != nil {
				t.Fatal(err)
			}
			r := row{id: ev.ID.String(), typ: ev.Type, stream: ev.StreamID}
			field, ok := customerField[ev.Type]
			switch {
			case ok:
			case strings.HasPrefix(ev.Type, "Product"):
				field = "merchant_id"
			default:
				field = "account_id"
			}
			r.customer, _ = m[field].(string)
			for k, v := range m {
				if strings.HasSuffix(k, "_at") {
					if r.at, err = time.Parse(time.RFC3339Nano, v.(string)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if ev.Type == "ActivityRecorded" {
				r.id, r.typ = m["event_id"].(string), m["type"].(string)
			}
			out = append(out, r)
		}
		after = batch[len(batch)-1].Position
	}
	// Newest first, then by id, as the log lists.
	slices.SortFunc(out, func(a, b row) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id)
	})
	return out
}

func where(rows []row, keep func(row) bool) []row {
	var out []row
	for _, r := range rows {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}
