package product_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain/product"
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
	product.Register(reg)
	want := []any{
		product.ProductListed{}, product.ProductRestocked{}, product.ProductRepriced{},
		product.ProductDelisted{}, product.ProductRedeemed{},
	}
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
// that no event carries personal data, and that an event survives a JSON
// round trip, as the codec will put it through.
func TestEventJSON(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	events := []any{
		listed, delisted, redeemed(2, 40, 8),
		product.ProductRestocked{MerchantID: "m-1", SKU: "S", Quantity: 2, StockAfter: 12, RestockedAt: t1},
		product.ProductRepriced{MerchantID: "m-1", SKU: "S", PricePoints: 3, PreviousPrice: 4, RepricedAt: t1},
	}
	for _, e := range events {
		for _, f := range reflect.VisibleFields(reflect.TypeOf(e)) {
			tag := strings.Split(f.Tag.Get("json"), ",")[0]
			if !snake.MatchString(tag) {
				t.Errorf("%T.%s has JSON name %q, want snake_case", e, f.Name, tag)
			}
			if f.Tag.Get("pii") != "" {
				t.Errorf("%T.%s is tagged personal; product events carry no personal data", e, f.Name)
			}
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

func TestEvolveIgnoresUnknownEvents(t *testing.T) {
	state := product.Evolve(product.Initial(), listed)
	type futureEvent struct{ X int }
	if got := product.Evolve(state, futureEvent{X: 1}); !reflect.DeepEqual(got, state) {
		t.Errorf("Evolve(unknown) changed the state: %+v", got)
	}
}
