package workload_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"github.com/bluepoint/bluepoint/internal/auth/password"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/workload"
)

func TestWorkloadTouchesEveryCommand(t *testing.T) {
	store := storetest.OpenSQLite(t, storetest.Options{})
	master, _ := pii.NewMasterKey()
	_, key, _ := ed25519.GenerateKey(nil)
	svc, err := service.New(service.Config{Store: store, Master: master, EncounterKey: key,
		Hasher: password.NewHasher(password.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := svc.CreateStaff(context.Background(), "Ops", "ops@example.org", "staff-password")
	if err != nil {
		t.Fatal(err)
	}
	var ref service.AccountRef
	_ = json.Unmarshal(out.Result.Body, &ref)
	done := 0
	sum, err := workload.Run(context.Background(), svc, workload.Config{Commands: 400, Seed: 7,
		Staff: service.Actor{ID: ref.ID, Kind: account.Staff}, Progress: func(n int) { done = n }})
	if err != nil {
		t.Fatal(err)
	}
	if done != 400 || sum.Commands != 400 || sum.Accepted < 200 || sum.Refused == 0 {
		t.Fatalf("summary %+v (progress %d)", sum, done)
	}
	for _, kind := range []string{"signup", "interaction", "donation", "giveaway", "product", "redemption", "close", "erase"} {
		if sum.ByKind[kind] == 0 {
			t.Errorf("no %s in 400 commands: %v", kind, sum.ByKind)
		}
	}
}
