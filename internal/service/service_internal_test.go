package service

import (
	"context"
	"errors"
	"testing"

	"github.com/bluepoint/bluepoint/internal/auth/password"
)

// An unknown email must cost a real verification; a malformed dummy hash
// would return at once and tell emails with accounts apart by timing.
func TestDummyHashIsAWellFormedHash(t *testing.T) {
	err := password.NewHasher(password.DefaultParams, 1).Verify(context.Background(), dummyHash, "anything at all")
	if !errors.Is(err, password.ErrMismatch) {
		t.Fatalf("dummy hash: want ErrMismatch, got %v", err)
	}
}
