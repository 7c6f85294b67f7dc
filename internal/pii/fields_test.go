package pii

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type address struct {
	Street string `pii:"true"`
	City   string // not personal on its own
}

type contact struct {
	Phone string `pii:"true"`
}

type officerOpened struct {
	AccountID string
	Email     string `pii:"true"`
	Name      string `pii:"true"`
	Badge     string `pii:"true"`
	Points    int64
	Home      address
	Previous  *address
	Others    []address
	contact          // embedded and unexported; its exported fields are reachable
	Note      string `pii:"false"`
	Any       any    // not visited
}

func sampleEvent() officerOpened {
	return officerOpened{
		AccountID: "account-a",
		Email:     "ann@example.org",
		Name:      "Ann Ødegård",
		Badge:     "", // optional; stays empty
		Points:    10,
		Home:      address{Street: "1 Main St", City: "Springfield"},
		Previous:  &address{Street: "2 Old Rd", City: "Shelbyville"},
		Others:    []address{{Street: "3 Elm", City: "Ogdenville"}},
		contact:   contact{Phone: "+1 555 0100"},
		Note:      "kept",
		Any:       &address{Street: "behind an interface"},
	}
}

func TestSealOpenFields(t *testing.T) {
	c, _, _ := newTestCipher(t)
	ctx := context.Background()
	want := sampleEvent()
	ev := sampleEvent()
	if err := SealFields(ctx, c, "account-a", &ev); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"Email": ev.Email, "Name": ev.Name, "Home.Street": ev.Home.Street,
		"Previous.Street": ev.Previous.Street, "Others[0].Street": ev.Others[0].Street, "Phone": ev.Phone} {
		if !IsSealed(v) {
			t.Errorf("%s not sealed: %q", name, v)
		}
	}
	if ev.Badge != "" || ev.AccountID != want.AccountID || ev.Home.City != want.Home.City || ev.Note != "kept" || ev.Points != 10 {
		t.Fatalf("untagged or empty fields changed: %+v", ev)
	}
	if err := OpenFields(ctx, c, &ev); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", ev, want)
	}
}

func TestOpenFieldsAfterErase(t *testing.T) {
	c, _, _ := newTestCipher(t)
	ctx := context.Background()
	a, b := sampleEvent(), sampleEvent()
	if err := SealFields(ctx, c, "account-a", &a); err != nil {
		t.Fatal(err)
	}
	if err := SealFields(ctx, c, "account-b", &b); err != nil {
		t.Fatal(err)
	}
	if err := c.Erase(ctx, "account-a"); err != nil {
		t.Fatal(err)
	}
	if err := OpenFields(ctx, c, &a); err != nil {
		t.Fatalf("OpenFields after erase: %v", err)
	}
	for _, v := range []string{a.Email, a.Name, a.Home.Street, a.Previous.Street, a.Others[0].Street, a.Phone} {
		if v != Erased {
			t.Fatalf("erased field reads %q, want %q", v, Erased)
		}
	}
	if a.Badge != "" || a.Home.City != "Springfield" {
		t.Fatalf("non-personal fields changed: %+v", a)
	}
	if err := OpenFields(ctx, c, &b); err != nil || !reflect.DeepEqual(b, sampleEvent()) {
		t.Fatalf("other subject: err %v, got %+v", err, b)
	}
}

func TestFieldsMixedSubjects(t *testing.T) {
	type transfer struct {
		From string `pii:"true"`
		To   string `pii:"true"`
	}
	c, _, _ := newTestCipher(t)
	ctx := context.Background()
	from, _ := c.Seal(ctx, "account-a", "Ann")
	to, _ := c.Seal(ctx, "account-b", "Bob")
	if err := c.Erase(ctx, "account-b"); err != nil {
		t.Fatal(err)
	}
	tr := transfer{From: from, To: to}
	if err := OpenFields(ctx, c, &tr); err != nil || tr != (transfer{"Ann", Erased}) {
		t.Fatalf("got %+v, %v", tr, err)
	}
}

func TestFieldsSharedPointerSealedOnce(t *testing.T) {
	type node struct {
		Name string `pii:"true"`
		Next *node
	}
	type pair struct {
		A, B *node
		Self *pair
	}
	c, _, _ := newTestCipher(t)
	ctx := context.Background()
	n := &node{Name: "Ann"}
	n.Next = n // a cycle must not hang the walk
	p := &pair{A: n, B: n}
	p.Self = p
	if err := SealFields(ctx, c, "account-a", p); err != nil {
		t.Fatal(err)
	}
	if err := OpenFields(ctx, c, p); err != nil || n.Name != "Ann" {
		t.Fatalf("got %q, %v; a field reached twice must be sealed once", n.Name, err)
	}
}

func TestFieldsRejectUnsupported(t *testing.T) {
	type nonString struct {
		Age int `pii:"true"`
	}
	type unexported struct {
		name string `pii:"true"`
	}
	type inMap struct {
		ByID map[string]address
	}
	type badTag struct {
		Name string `pii:"yes"`
	}
	type nested struct {
		Inner struct {
			List []nonString
		}
	}
	c, _, _ := newTestCipher(t)
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"not a pointer", address{}, "want a non-nil pointer to a struct"},
		{"nil pointer", (*address)(nil), "want a non-nil pointer"},
		{"pointer to string", new(string), "want a non-nil pointer to a struct"},
		{"tagged int", &nonString{}, "nonString.Age is tagged pii but is a int"},
		{"tagged unexported", &unexported{name: "x"}, "cannot be set"},
		{"map of tagged", &inMap{ByID: map[string]address{"a": {}}}, "inside a map"},
		{"unknown tag value", &badTag{}, `pii tag "yes"`},
		{"deeply nested", &nested{Inner: struct{ List []nonString }{List: []nonString{{}}}}, "Inner.List[0].Age"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, op := range []func() error{
				func() error { return SealFields(context.Background(), c, "account-a", tt.v) },
				func() error { return OpenFields(context.Background(), c, tt.v) },
			} {
				if err := op(); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want ErrUnsupported mentioning %q", err, tt.want)
				}
			}
		})
	}
	_ = unexported{}.name
}

func TestFieldsLeftUnchangedOnError(t *testing.T) {
	c, _, _ := newTestCipher(t)
	ctx := context.Background()
	good, _ := c.Seal(ctx, "account-a", "Ann")
	ev := address{Street: good}
	other := struct {
		A address
		B address
	}{A: ev, B: address{Street: "plaintext, never sealed"}}
	if err := OpenFields(ctx, c, &other); !errors.Is(err, ErrMalformedToken) || !strings.Contains(err.Error(), "B.Street") {
		t.Fatalf("err = %v, want ErrMalformedToken naming B.Street", err)
	}
	if other.A.Street != good {
		t.Fatal("OpenFields changed a field before failing")
	}
	if err := c.Erase(ctx, "account-a"); err != nil {
		t.Fatal(err)
	}
	fresh := address{Street: "1 Main St"}
	if err := SealFields(ctx, c, "account-a", &fresh); !errors.Is(err, ErrErased) || fresh.Street != "1 Main St" {
		t.Fatalf("SealFields for an erased subject: err %v, street %q", err, fresh.Street)
	}
}
