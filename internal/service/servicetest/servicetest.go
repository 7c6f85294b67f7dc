// Package servicetest builds real services for the tests of the packages
// around the service (read models, workloads): one way to get a service with
// fresh keys and cheap password hashing, and its first staff member.
package servicetest

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/auth/password"
	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/service"
)

// FastHashes keeps tests quick; the parameters travel with each hash, so a
// test's hashes still verify anywhere.
var FastHashes = password.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

// New returns a service over store with a new master key and encounter
// key, cheap password hashing, generous conflict retries (tests race many
// commands on few accounts) and the clock now (nil: time.Now).
func New(t testing.TB, store eventstore.Store, now func() time.Time) *service.Service {
	t.Helper()
	master, err := pii.NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	_, signing, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(service.Config{Store: store, Master: master, EncounterKey: signing, Now: now,
		Hasher: password.NewHasher(FastHashes, 4), Pipeline: command.Config{MaxRetries: 50}})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// Staff creates a staff member and returns it as an actor.
func Staff(t testing.TB, svc *service.Service, name, email string) service.Actor {
	t.Helper()
	out, err := svc.CreateStaff(context.Background(), name, email, "staff-password")
	if err != nil {
		t.Fatalf("create staff: %v", err)
	}
	var ref service.AccountRef
	if err := json.Unmarshal(out.Result.Body, &ref); err != nil {
		t.Fatal(err)
	}
	return service.Actor{ID: ref.ID, Kind: account.Staff}
}
