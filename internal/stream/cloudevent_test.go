package stream

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	e := newEvent(t, "account", "AccountOpened", 3)
	body, err := Encode(e, "bluepoint-test")
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	got, err := Decode(body)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	assertSameEvent(t, got, e)

	// Without optional metadata, transaction id or data.
	e.Metadata.CorrelationID, e.Metadata.ActorID, e.Position.TxID, e.Data = "", "", 0, nil
	body, err = Encode(e, "bluepoint")
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if got, err = Decode(body); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	assertSameEvent(t, got, e)
}

func TestEncodeIsStructuredCloudEvent(t *testing.T) {
	e := newEvent(t, "donation", "DonationMade", 1)
	e.Data = json.RawMessage("{\n  \"to\": \"family-ü\"\n}")
	body, err := Encode(e, "bluepoint")
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	want := map[string]string{
		"specversion":     `"1.0"`,
		"id":              `"` + e.ID.String() + `"`,
		"source":          `"bluepoint"`,
		"type":            `"DonationMade"`,
		"subject":         `"` + e.StreamID + `"`,
		"time":            `"2026-03-01T12:30:45.123456789Z"`,
		"datacontenttype": `"application/json"`,
		"data":            string(e.Data),
		"traceid":         `"` + e.Metadata.TraceID + `"`,
		"correlationid":   `"corr-1"`,
		"causationid":     `"` + e.Metadata.CausationID + `"`,
		"actorid":         `"account-42"`,
		"streamversion":   `"1"`,
		"globalposition":  `"1001"`,
		"txid":            `"77"`,
		"schemaversion":   `2`,
		"depth":           `2`,
	}
	for k, v := range want {
		if string(m[k]) != v {
			t.Errorf("%s = %s, want %s", k, m[k], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("attributes %d, want %d: %s", len(m), len(want), body)
	}
}

func TestEncodeRejects(t *testing.T) {
	e := newEvent(t, "account", "AccountOpened", 1)
	e.Data = json.RawMessage(`{"broken"`)
	if _, err := Encode(e, "bluepoint"); err == nil {
		t.Error("Encode accepted invalid JSON data")
	}
	e = newEvent(t, "account", "", 1)
	if _, err := Encode(e, "bluepoint"); err == nil {
		t.Error("Encode accepted an event without a type")
	}
}

func TestDecodeRejects(t *testing.T) {
	e := newEvent(t, "account", "AccountOpened", 1)
	good, err := Encode(e, "bluepoint")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for name, tc := range map[string]struct{ body, want string }{
		"not json":        {`{"specversion"`, "not a CloudEvent"},
		"trailing data":   {edit(func(map[string]any) {}) + ` {}`, "not a CloudEvent"},
		"no id":           {edit(func(m map[string]any) { delete(m, "id") }), "invalid CloudEvent"},
		"no source":       {edit(func(m map[string]any) { delete(m, "source") }), "invalid CloudEvent"},
		"old spec":        {edit(func(m map[string]any) { m["specversion"] = "0.3" }), "version"},
		"id not uuid":     {edit(func(m map[string]any) { m["id"] = "abc" }), "not a UUID"},
		"no subject":      {edit(func(m map[string]any) { delete(m, "subject") }), "no subject"},
		"xml data":        {edit(func(m map[string]any) { m["datacontenttype"] = "application/xml"; m["data"] = "<a/>" }), "content type"},
		"base64 data":     {edit(func(m map[string]any) { delete(m, "data"); m["data_base64"] = "e30=" }), "base64"},
		"bad version ext": {edit(func(m map[string]any) { m["streamversion"] = "x" }), "streamversion"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Decode([]byte(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// BenchmarkDecode is a consumer's cost per message before its read model
// sees the event.
func BenchmarkDecode(b *testing.B) {
	body, err := Encode(newEvent(b, "account", "AccountOpened", 3), "bluepoint")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
