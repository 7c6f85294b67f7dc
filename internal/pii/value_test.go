package pii_test

import (
	"context"
	"errors"
	"testing"

	"github.com/bluepoint/bluepoint/internal/pii"
)

type opened struct {
	ID    string `json:"id"`
	Email string `json:"email" pii:"true"`
}

func TestSealValueLeavesTheOriginal(t *testing.T) {
	ctx := context.Background()
	master, err := pii.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	c, err := pii.NewCipher(master, pii.NewMemoryKeyring())
	if err != nil {
		t.Fatal(err)
	}
	in := opened{ID: "a1", Email: "ana@example.org"}
	out, err := pii.SealValue(ctx, c, "a1", in)
	if err != nil {
		t.Fatal(err)
	}
	sealed := out.(opened)
	if in.Email != "ana@example.org" || !pii.IsSealed(sealed.Email) || sealed.ID != "a1" {
		t.Fatalf("in %+v, sealed %+v", in, sealed)
	}
	back, err := pii.OpenValue(ctx, c, sealed)
	if err != nil || back.(opened) != in {
		t.Fatalf("open: %+v, %v", back, err)
	}
	if err := c.Erase(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	erased, err := pii.OpenValue(ctx, c, sealed)
	if err != nil || erased.(opened).Email != pii.Erased {
		t.Fatalf("after erasure: %+v, %v", erased, err)
	}
	if v, err := pii.SealValue(ctx, c, "a1", 42); err != nil || v != 42 {
		t.Fatalf("a non-struct must pass through: %v, %v", v, err)
	}
	if _, err := pii.SealValue(ctx, c, "a1", in); !errors.Is(err, pii.ErrErased) {
		t.Fatalf("sealing for an erased subject: want ErrErased, got %v", err)
	}
}
