package pii

import (
	"encoding/hex"
	"strings"
	"testing"
)

func TestBlindIndex(t *testing.T) {
	m1, m2 := mustMaster(t), mustMaster(t)
	email := NormalizeEmail("  Ann@Example.ORG\n")
	idx := BlindIndex(m1, "email", email)

	if raw, err := hex.DecodeString(idx); err != nil || len(raw) != 32 {
		t.Fatalf("index %q is not 32 bytes of hex", idx)
	}
	tests := []struct {
		name   string
		other  string
		sameAs bool
	}{
		{"same input", BlindIndex(m1, "email", "ann@example.org"), true},
		{"other value", BlindIndex(m1, "email", "bob@example.org"), false},
		{"other purpose", BlindIndex(m1, "phone", email), false},
		{"other master key", BlindIndex(m2, "email", email), false},
		{"unnormalized input", BlindIndex(m1, "email", "Ann@Example.ORG"), false},
		{"purpose and value do not run together", BlindIndex(m1, "emai", "l"+email), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.other == idx) != tt.sameAs {
				t.Fatalf("index equal = %v, want %v", tt.other == idx, tt.sameAs)
			}
		})
	}
	for _, leak := range []string{"ann", "example", hex.EncodeToString([]byte("ann"))} {
		if strings.Contains(idx, leak) {
			t.Fatalf("index %q reveals %q", idx, leak)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ann@example.org", "ann@example.org"},
		{"  Ann@Example.ORG \t\n", "ann@example.org"},
		{"ZOË@EXAMPLE.ORG", "zoë@example.org"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeEmail(tt.in); got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
