package codec_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bluepoint/bluepoint/internal/codec"
	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// accountOpened is at schema v3: v1 had one "name", v2 split it into first
// and last, v3 added a kind defaulting to "civilian".
type accountOpened struct {
	First string `json:"first"`
	Last  string `json:"last"`
	Kind  string `json:"kind"`
}

type pointsEarned struct {
	Points int `json:"points"`
}

func newRegistry(t *testing.T) *codec.Registry {
	t.Helper()
	r := codec.NewRegistry()
	codec.Register[accountOpened](r, "AccountOpened", 3)
	codec.Register[pointsEarned](r, "PointsEarned", 1)
	r.Upcast("AccountOpened", 1, func(data json.RawMessage) (json.RawMessage, error) {
		var v1 struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(data, &v1); err != nil {
			return nil, err
		}
		first, last, _ := strings.Cut(v1.Name, " ")
		return json.Marshal(map[string]string{"first": first, "last": last})
	})
	r.Upcast("AccountOpened", 2, func(data json.RawMessage) (json.RawMessage, error) {
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, err
		}
		v["kind"] = "civilian"
		return json.Marshal(v)
	})
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	r := newRegistry(t)
	for _, v := range []any{pointsEarned{Points: 7}, &pointsEarned{Points: 7}} {
		data, err := r.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		if data.Type != "PointsEarned" || data.SchemaVersion != 1 || string(data.Data) != `{"points":7}` {
			t.Fatalf("Encode(%#v) = %+v", v, data)
		}
		got, err := r.Decode(eventstore.Event{Type: data.Type, SchemaVersion: data.SchemaVersion, Data: data.Data})
		if err != nil {
			t.Fatal(err)
		}
		if got != (pointsEarned{Points: 7}) {
			t.Fatalf("Decode = %#v, want the value type back", got)
		}
	}
}

func TestDecodeUpcastsOldVersions(t *testing.T) {
	r := newRegistry(t)
	tests := []struct {
		name    string
		version int
		data    string
	}{
		{"v1 splits the name", 1, `{"name":"Ada Lovelace"}`},
		{"v0 counts as v1", 0, `{"name":"Ada Lovelace"}`},
		{"v2 gains a kind", 2, `{"first":"Ada","last":"Lovelace"}`},
		{"v3 is current", 3, `{"first":"Ada","last":"Lovelace","kind":"civilian"}`},
	}
	want := accountOpened{First: "Ada", Last: "Lovelace", Kind: "civilian"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Decode(eventstore.Event{
				StreamID: "account-1", StreamVersion: 1,
				Type: "AccountOpened", SchemaVersion: tt.version, Data: json.RawMessage(tt.data),
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("Decode = %#v, want %#v", got, want)
			}
		})
	}
}

func TestDecodeErrorsNameTheEvent(t *testing.T) {
	r := newRegistry(t)
	tests := []struct {
		name    string
		ev      eventstore.Event
		unknown bool
	}{
		{"unknown type", eventstore.Event{Type: "Nope", Data: json.RawMessage(`{}`)}, true},
		{"bad data", eventstore.Event{Type: "PointsEarned", SchemaVersion: 1, Data: json.RawMessage(`{"points":"x"}`)}, false},
		{"version from the future", eventstore.Event{Type: "PointsEarned", SchemaVersion: 2, Data: json.RawMessage(`{}`)}, false},
		{"upcaster fails", eventstore.Event{Type: "AccountOpened", SchemaVersion: 1, Data: json.RawMessage(`[]`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ev.StreamID, tt.ev.StreamVersion = "account-42", 9
			_, err := r.Decode(tt.ev)
			var de *codec.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode error = %v, want a *DecodeError", err)
			}
			if de.StreamID != "account-42" || de.StreamVersion != 9 || de.Type != tt.ev.Type {
				t.Fatalf("DecodeError = %+v, does not name the event", de)
			}
			if !strings.Contains(err.Error(), "account-42@9") || !strings.Contains(err.Error(), tt.ev.Type) {
				t.Fatalf("error text %q does not name the event", err)
			}
			if got := errors.Is(err, codec.ErrUnknownType); got != tt.unknown {
				t.Fatalf("errors.Is(ErrUnknownType) = %v, want %v", got, tt.unknown)
			}
		})
	}
}

func TestEncodeRejectsWhatTheStoreCannotHold(t *testing.T) {
	type notRegistered struct{}
	type notAnObject int
	r := newRegistry(t)
	codec.Register[notAnObject](r, "NotAnObject", 1)
	if _, err := r.Encode(notRegistered{}); !errors.Is(err, codec.ErrUnknownType) {
		t.Errorf("Encode(unregistered) = %v, want ErrUnknownType", err)
	}
	if _, err := r.Encode(nil); !errors.Is(err, codec.ErrUnknownType) {
		t.Errorf("Encode(nil) = %v, want ErrUnknownType", err)
	}
	if _, err := r.Encode((*pointsEarned)(nil)); err == nil {
		t.Error("Encode(nil pointer) succeeded")
	}
	if _, err := r.Encode(notAnObject(1)); err == nil {
		t.Error("Encode(non-object) succeeded")
	}
}

func TestCheckFindsMissingUpcasters(t *testing.T) {
	r := codec.NewRegistry()
	codec.Register[accountOpened](r, "AccountOpened", 3)
	r.Upcast("AccountOpened", 1, func(d json.RawMessage) (json.RawMessage, error) { return d, nil })
	if err := r.Check(); err == nil || !strings.Contains(err.Error(), "v2") {
		t.Fatalf("Check = %v, want the missing v2 step named", err)
	}

	r = codec.NewRegistry()
	r.Upcast("Ghost", 1, func(d json.RawMessage) (json.RawMessage, error) { return d, nil })
	if err := r.Check(); !errors.Is(err, codec.ErrUnknownType) {
		t.Fatalf("Check = %v, want ErrUnknownType for an upcaster of an unregistered type", err)
	}
}

func TestRegisterPanicsOnMisuse(t *testing.T) {
	tests := map[string]func(r *codec.Registry){
		"name taken":   func(r *codec.Registry) { codec.Register[accountOpened](r, "PointsEarned", 1) },
		"type twice":   func(r *codec.Registry) { codec.Register[pointsEarned](r, "Other", 1) },
		"pointer type": func(r *codec.Registry) { codec.Register[*accountOpened](r, "Ptr", 1) },
		"version 0":    func(r *codec.Registry) { codec.Register[struct{ X int }](r, "Zero", 0) },
		"upcast twice": func(r *codec.Registry) {
			r.Upcast("AccountOpened", 1, func(d json.RawMessage) (json.RawMessage, error) { return d, nil })
		},
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("did not panic")
				}
			}()
			f(newRegistry(t))
		})
	}
}

func TestTypesAreSorted(t *testing.T) {
	got := strings.Join(newRegistry(t).Types(), ",")
	if got != "AccountOpened,PointsEarned" {
		t.Fatalf("Types = %s", got)
	}
}

func TestAddRegistersTheSampleType(t *testing.T) {
	r := codec.NewRegistry()
	r.Add("PointsEarned", 1, pointsEarned{})
	data, err := r.Encode(pointsEarned{Points: 3})
	if err != nil || data.Type != "PointsEarned" || data.SchemaVersion != 1 {
		t.Fatalf("encode after Add: %+v, %v", data, err)
	}
	for _, bad := range []any{nil, &pointsEarned{}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Add(%T) did not panic", bad)
				}
			}()
			codec.NewRegistry().Add("Bad", 1, bad)
		}()
	}
}
