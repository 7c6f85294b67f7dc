package pii

import (
	"context"
	"sync"
)

// Keyring stores wrapped data keys, one per subject. It sees only wrapped
// keys, so it may live in the same database as the events: without the
// master key its contents are useless.
//
// Implementations must be safe for concurrent use, across processes where
// they are shared, and must keep three promises:
//
//   - Get returns the wrapped key, [ErrErased] if the subject's key was
//     deleted, or [ErrNoKey] if the subject never had one.
//   - Put inserts only if the subject has no key and returns the key that is
//     stored afterwards: the given one, or the one a concurrent writer put
//     first. So two first uses racing for one subject agree on one key.
//     Put on an erased subject returns [ErrErased].
//   - Delete removes the key and remembers that the subject was erased (a
//     tombstone), so an erased subject never silently gets a new key and old
//     tokens keep reading as erased rather than as tampered. It is
//     idempotent, and deleting a subject that never had a key still leaves a
//     tombstone.
//
// [MemoryKeyring] is the implementation for tests; [VaultKeyring] keeps the
// keys in the event store's data_keys table. Both pass the same suite,
// keyringtest.Exercise.
type Keyring interface {
	Get(ctx context.Context, subjectID string) (wrapped []byte, err error)
	Put(ctx context.Context, subjectID string, wrapped []byte) (stored []byte, err error)
	Delete(ctx context.Context, subjectID string) error
}

// MemoryKeyring is a [Keyring] in a mutex-guarded map, for tests and
// throwaway instances; everything it holds is lost when the process exits.
// The zero value is ready to use.
type MemoryKeyring struct {
	mu     sync.Mutex
	keys   map[string][]byte
	erased map[string]bool
}

// NewMemoryKeyring returns an empty in-memory keyring.
func NewMemoryKeyring() *MemoryKeyring { return &MemoryKeyring{} }

// Get returns a copy of the subject's wrapped key.
func (m *MemoryKeyring) Get(ctx context.Context, subjectID string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.erased[subjectID] {
		return nil, ErrErased
	}
	k, ok := m.keys[subjectID]
	if !ok {
		return nil, ErrNoKey
	}
	return clone(k), nil
}

// Put stores wrapped unless the subject already has a key, and returns a copy
// of whichever key is stored.
func (m *MemoryKeyring) Put(ctx context.Context, subjectID string, wrapped []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.erased[subjectID] {
		return nil, ErrErased
	}
	if k, ok := m.keys[subjectID]; ok {
		return clone(k), nil
	}
	if m.keys == nil {
		m.keys = make(map[string][]byte)
	}
	m.keys[subjectID] = clone(wrapped)
	return clone(wrapped), nil
}

// Delete drops the subject's key and records the erasure.
func (m *MemoryKeyring) Delete(ctx context.Context, subjectID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, subjectID)
	if m.erased == nil {
		m.erased = make(map[string]bool)
	}
	m.erased[subjectID] = true
	return nil
}

// Len returns how many subjects hold a live key; tests use it to check that
// racing first uses created exactly one.
func (m *MemoryKeyring) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
