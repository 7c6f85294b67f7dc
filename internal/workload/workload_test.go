package workload_test

import (
	"context"
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/service/servicetest"
	"github.com/bluepoint/bluepoint/internal/workload"
)

func TestWorkloadTouchesEveryCommand(t *testing.T) {
	svc := servicetest.New(t, storetest.OpenSQLite(t, storetest.Options{}), nil)
	staff := servicetest.Staff(t, svc, "Ops", "ops@example.org")
	done := 0
	sum, err := workload.Run(context.Background(), svc, workload.Config{Commands: 400, Seed: 7,
		Staff: staff, Progress: func(n int) { done = n }})
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
