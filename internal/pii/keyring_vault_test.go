package pii_test

import (
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/pii/keyringtest"
)

func TestVaultKeyringSQLite(t *testing.T) {
	keyringtest.Exercise(t, func(t *testing.T) pii.Keyring {
		return pii.VaultKeyring{Vault: storetest.OpenSQLite(t, storetest.Options{})}
	})
}

func TestVaultKeyringPostgres(t *testing.T) {
	keyringtest.Exercise(t, func(t *testing.T) pii.Keyring {
		return pii.VaultKeyring{Vault: storetest.OpenPostgres(t, storetest.Options{})}
	})
}
