package pii_test

import (
	"testing"

	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/pii/keyringtest"
)

func TestMemoryKeyring(t *testing.T) {
	keyringtest.Exercise(t, func(*testing.T) pii.Keyring { return pii.NewMemoryKeyring() })
}

func TestMemoryKeyringZeroValue(t *testing.T) {
	keyringtest.Exercise(t, func(*testing.T) pii.Keyring { return new(pii.MemoryKeyring) })
}
