package pii

import (
	"context"
	"errors"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// VaultKeyring is the production [Keyring]: wrapped data keys live in the
// event store's vault, in the same database as the events they protect,
// shared by every process. Only wrapped keys are stored there: without the
// master key they are useless.
type VaultKeyring struct{ Vault eventstore.Vault }

var _ Keyring = VaultKeyring{}

// Get implements [Keyring].
func (k VaultKeyring) Get(ctx context.Context, subjectID string) ([]byte, error) {
	b, err := k.Vault.DataKey(ctx, subjectID)
	return b, vaultErr(err)
}

// Put implements [Keyring].
func (k VaultKeyring) Put(ctx context.Context, subjectID string, wrapped []byte) ([]byte, error) {
	b, err := k.Vault.PutDataKey(ctx, subjectID, wrapped)
	return b, vaultErr(err)
}

// Delete implements [Keyring].
func (k VaultKeyring) Delete(ctx context.Context, subjectID string) error {
	return vaultErr(k.Vault.DeleteDataKey(ctx, subjectID))
}

// vaultErr maps the store's sentinels onto the keyring's, keeping the chain.
func vaultErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, eventstore.ErrErased):
		return errors.Join(ErrErased, err)
	case errors.Is(err, eventstore.ErrNotFound):
		return errors.Join(ErrNoKey, err)
	}
	return err
}
