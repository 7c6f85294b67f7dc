package postgres_test

import (
	"testing"

	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.Harness{Open: storetest.OpenPostgres, ConcurrentCommits: true})
}
