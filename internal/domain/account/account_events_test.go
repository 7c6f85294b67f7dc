package account_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain/account"
)

// registrar records what Register declares.
type registrar map[string]any

func (r registrar) Add(name string, version int, sample any) {
	if version != 1 {
		panic("unexpected version")
	}
	r[name] = sample
}

func registered(t *testing.T) registrar {
	t.Helper()
	reg := registrar{}
	account.Register(reg)
	return reg
}

func TestRegisterDeclaresEveryEvent(t *testing.T) {
	reg := registered(t)
	want := []any{
		account.AccountOpened{}, account.AccountVerified{}, account.ProfileUpdated{},
		account.AccountClosed{}, account.PointsCredited{}, account.PointsDebited{},
		account.PersonalDataErased{},
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

// TestEventJSON checks that every event field has a snake_case JSON name and
// that an event survives a JSON round trip, as the codec will put it through.
func TestEventJSON(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	events := []any{
		opened(account.Officer), opened(account.Merchant), opened(account.Family), verified, closed, credited(5, 5),
		account.ProfileUpdated{AccountID: "acc-1", Name: "N", Profile: profiles[account.Charity], UpdatedAt: t1},
		account.PointsDebited{AccountID: "acc-1", Points: 2, Reason: "r", TxID: "tx", Balance: 3, DebitedAt: t2},
		account.PersonalDataErased{AccountID: "acc-1", ErasedAt: t2},
	}
	for _, e := range events {
		for _, f := range reflect.VisibleFields(reflect.TypeOf(e)) {
			if f.Anonymous {
				continue
			}
			tag := strings.Split(f.Tag.Get("json"), ",")[0]
			if !snake.MatchString(tag) {
				t.Errorf("%T.%s has JSON name %q, want snake_case", e, f.Name, tag)
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

// TestPersonalFields pins which fields the codec will encrypt, and that no
// event can carry a password.
func TestPersonalFields(t *testing.T) {
	want := map[string][]string{
		"AccountOpened":  {"address", "badge_number", "email", "name", "phone"},
		"ProfileUpdated": {"address", "badge_number", "name", "phone"},
	}
	for name, sample := range registered(t) {
		var pii []string
		for _, f := range reflect.VisibleFields(reflect.TypeOf(sample)) {
			tag := strings.Split(f.Tag.Get("json"), ",")[0]
			if strings.Contains(strings.ToLower(f.Name+tag), "password") {
				t.Errorf("%s.%s: events must never carry a password", name, f.Name)
			}
			if f.Tag.Get("pii") == "true" {
				if f.Type.Kind() != reflect.String {
					t.Errorf("%s.%s is personal but not a string", name, f.Name)
				}
				pii = append(pii, tag)
			}
		}
		slices.Sort(pii)
		if !slices.Equal(pii, want[name]) {
			t.Errorf("%s personal fields = %v, want %v", name, pii, want[name])
		}
	}
}

func TestEvolveIgnoresUnknownEvents(t *testing.T) {
	state := account.Evolve(account.Initial(), opened(account.Civilian))
	type futureEvent struct{ X int }
	if got := account.Evolve(state, futureEvent{X: 1}); !reflect.DeepEqual(got, state) {
		t.Errorf("Evolve(unknown) changed the state: %+v", got)
	}
}
