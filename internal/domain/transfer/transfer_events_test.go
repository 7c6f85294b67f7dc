package transfer_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain/transfer"
)

// registrar records what Register declares.
type registrar map[string]any

func (r registrar) Add(name string, version int, sample any) {
	if version != 1 {
		panic("unexpected version")
	}
	r[name] = sample
}

func TestRegisterDeclaresEveryEvent(t *testing.T) {
	reg := registrar{}
	transfer.Register(reg)
	want := []any{transfer.DonationMade{}, transfer.GiveawayMade{}, transfer.RedemptionMade{}, transfer.InteractionRecorded{}}
	if len(reg) != len(want) {
		t.Fatalf("registered %d types, want %d", len(reg), len(want))
	}
	for _, sample := range want {
		name := reflect.TypeOf(sample).Name()
		if got, ok := reg[name]; !ok || reflect.TypeOf(got) != reflect.TypeOf(sample) {
			t.Errorf("%s registered as %T, want %T", name, got, sample)
		}
	}
}

// TestEventJSON checks that every event field has a snake_case JSON name,
// that every record carries its rule version, and that an event survives a
// JSON round trip, as the codec will put it through.
func TestEventJSON(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	events := []any{
		transfer.DonationMade{TxID: "tx", From: "a", To: "b", Points: 3, Bonus: 1, RuleVersion: 2, Note: "n", DonatedAt: t1},
		transfer.GiveawayMade{TxID: "tx", From: "a", To: "b", Points: 3, Bonus: 1, RuleVersion: 2, GivenAt: t1},
		transfer.RedemptionMade{TxID: "tx", RedeemerID: "a", MerchantID: "m", SKU: "S", Quantity: 2, UnitPrice: 3,
			Points: 6, Bonus: 1, RuleVersion: 2, Voucher: "V-12345678", RedeemedAt: t1},
		recorded(t1),
	}
	for _, e := range events {
		var versioned bool
		for _, f := range reflect.VisibleFields(reflect.TypeOf(e)) {
			tag := strings.Split(f.Tag.Get("json"), ",")[0]
			if !snake.MatchString(tag) {
				t.Errorf("%T.%s has JSON name %q, want snake_case", e, f.Name, tag)
			}
			versioned = versioned || tag == "rule_version"
		}
		if !versioned {
			t.Errorf("%T does not record the rule version that priced it", e)
		}
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		back := reflect.New(reflect.TypeOf(e))
		if err := json.Unmarshal(data, back.Interface()); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back.Elem().Interface(), e) {
			t.Errorf("%T round trip:\n got %#v\nwant %#v", e, back.Elem().Interface(), e)
		}
	}
}
