package app

import (
	"io"
	"log/slog"
	"testing"

	"github.com/bluepoint/bluepoint/internal/demo"
	"github.com/bluepoint/bluepoint/internal/domain/account"
)

// bluepoint demo loads into a data directory that serve then uses: the
// logins it prints sign in to the server, and a second run loads nothing.
func TestDemoThenServe(t *testing.T) {
	cfg := sqliteConfig(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := DemoParams{Config: cfg, Accounts: 20, Transactions: 150}
	res, err := Demo(t.Context(), p, logger)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Loaded || res.TotalAccounts() != 20 || res.TotalTransactions() != 150 {
		t.Fatalf("first load: %+v", res)
	}
	again, err := Demo(t.Context(), p, logger)
	if err != nil || again.Loaded || len(again.Logins) != len(res.Logins) {
		t.Fatalf("second load: %+v, %v", again, err)
	}

	a, err := New(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer a.Stop(t.Context())
	for i, l := range res.Logins {
		actor, err := a.service.Authenticate(t.Context(), l.Email, res.Password)
		if err != nil || actor.ID != l.ID || actor.ID != again.Logins[i].ID {
			t.Errorf("sign in to the server as %+v: %+v, %v", l, actor, err)
		}
	}
}

// serve --demo loads into the running app's store once.
func TestLoadDemoIntoRunningApp(t *testing.T) {
	a, err := New(sqliteConfig(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.LoadDemo(t.Context(), nil); err == nil {
		t.Fatal("LoadDemo before Start succeeded")
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer a.Stop(t.Context())
	res, err := a.loadDemo(t.Context(), demo.Params{Accounts: 15, Transactions: 60})
	if err != nil || !res.Loaded {
		t.Fatalf("load: %+v, %v", res, err)
	}
	again, err := a.LoadDemo(t.Context(), nil)
	if err != nil || again.Loaded {
		t.Fatalf("second load: %+v, %v", again, err)
	}
	officer := res.Logins[2]
	actor, err := a.service.Authenticate(t.Context(), officer.Email, demo.Password)
	if err != nil || actor.Kind != account.Officer || actor.ID != officer.ID {
		t.Errorf("sign in as %+v: %+v, %v", officer, actor, err)
	}
}
