package pii

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"testing"
)

func TestWrapUnwrap(t *testing.T) {
	master, other := mustMaster(t), mustMaster(t)
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := Wrap(master, "account-a", dk)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(wrapped, dk[:]) {
		t.Fatal("wrapped key contains the data key in the clear")
	}
	got, err := Unwrap(master, "account-a", wrapped)
	if err != nil || got != dk {
		t.Fatalf("unwrap: err %v, same key %v", err, got == dk)
	}

	flipped := bytes.Clone(wrapped)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name    string
		master  MasterKey
		subject string
		wrapped []byte
	}{
		{"moved to another subject", master, "account-b", wrapped},
		{"other master key", other, "account-a", wrapped},
		{"altered byte", master, "account-a", flipped},
		{"truncated", master, "account-a", wrapped[:len(wrapped)-1]},
		{"empty", master, "account-a", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Unwrap(tt.master, tt.subject, tt.wrapped); !errors.Is(err, ErrWrappedKey) {
				t.Fatalf("err = %v, want ErrWrappedKey", err)
			}
		})
	}
}

func TestWrapRejectsInvalidSubject(t *testing.T) {
	if _, err := Wrap(mustMaster(t), "a:b", DataKey{}); !errors.Is(err, ErrInvalidSubject) {
		t.Fatalf("err = %v, want ErrInvalidSubject", err)
	}
}

// deriveKey claims to be HKDF-Expand for one block; hold it to that.
func TestDeriveKeyIsHKDFExpand(t *testing.T) {
	master := mustMaster(t)
	for _, info := range []string{infoWrapKey, infoBlindIndex + "email", ""} {
		want, err := hkdf.Expand(sha256.New, master[:], info, KeySize)
		if err != nil {
			t.Fatal(err)
		}
		if got := deriveKey(master, info); !bytes.Equal(got, want) {
			t.Fatalf("info %q: deriveKey differs from hkdf.Expand", info)
		}
	}
}

func mustMaster(t testing.TB) MasterKey {
	t.Helper()
	k, err := NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
