package rest

import (
	"reflect"
	"testing"
)

func TestLocationsOf(t *testing.T) {
	type paging struct {
		Limit int `query:"limit"`
	}
	type input struct {
		paging
		ID   string `path:"id"`
		Key  string `header:"Idempotency-Key"`
		Body struct {
			Points  int               `json:"points"`
			Pricing map[string]string `json:"pricing,omitempty"`
			Plain   string
			Skipped string `json:"-"`
			hidden  string
		}
	}
	locs := locationsOf(reflect.TypeFor[input]())
	for field, want := range map[string]string{
		"limit":                      "query.limit",
		"id":                         "path.id",
		"Idempotency-Key":            "header.Idempotency-Key",
		"points":                     "body.points",
		"pricing.points.interaction": "body.pricing.points.interaction",
		"Plain":                      "body.Plain",
		"Skipped":                    "Skipped",
		"hidden":                     "hidden",
		"elsewhere":                  "elsewhere",
	} {
		if got := locs.of(field); got != want {
			t.Errorf("of(%q) = %q, want %q", field, got, want)
		}
	}
	if got := fieldLocations(nil).of("points"); got != "points" {
		t.Errorf("nil locations: of(points) = %q", got)
	}
}
