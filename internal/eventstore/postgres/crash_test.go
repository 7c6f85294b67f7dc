package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

func TestMain(m *testing.M) {
	if storetest.CrashChild(func(schema string) (eventstore.Store, error) {
		return postgres.Open(context.Background(), postgres.Config{URL: os.Getenv("BLUEPOINT_TEST_POSTGRES"), Schema: schema})
	}) {
		return
	}
	os.Exit(m.Run())
}

func TestAcknowledgedAppendsSurviveKill(t *testing.T) {
	url := testenv.Postgres(t)
	schema := storetest.NewSchema(t, url)
	if err := postgres.Migrate(context.Background(), postgres.MigrateParams{URL: url, Schema: schema}); err != nil {
		t.Fatal(err)
	}
	storetest.RunCrash(t, schema, func(t *testing.T) eventstore.Store {
		s, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
