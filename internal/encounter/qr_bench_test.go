package encounter_test

import (
	"crypto/ed25519"
	"testing"

	"github.com/bluepoint/bluepoint/internal/encounter"
)

// BenchmarkQRPNG renders the QR code of a real token, as every encounter
// request does.
func BenchmarkQRPNG(b *testing.B) {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := (&encounter.Issuer{Key: key}).Issue("0190f5c2-7b1e-7c4a-9d3e-2f1a4b5c6d7e")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encounter.QRPNG(tok.Value, 0); err != nil {
			b.Fatal(err)
		}
	}
}
