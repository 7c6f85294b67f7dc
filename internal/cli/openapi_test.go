package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenAPI(t *testing.T) {
	code, out, _ := run(t, "openapi")
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != ExitOK || err != nil {
		t.Fatalf("openapi = %d, %v", code, err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Paths["/v1/accounts"]["post"] == nil || doc.Paths["/v1/traces/{trace_id}"]["get"] == nil {
		t.Fatalf("document: openapi %q, %d paths", doc.OpenAPI, len(doc.Paths))
	}
	file := filepath.Join(t.TempDir(), "openapi.json")
	if code, _, _ := run(t, "openapi", "--out", file); code != ExitOK {
		t.Fatalf("openapi --out = %d", code)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != out {
		t.Fatalf("the file differs from stdout: %v", err)
	}
}
