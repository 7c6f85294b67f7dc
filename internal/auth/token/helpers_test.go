package token_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/bluepoint/bluepoint/internal/auth/token"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// clock is a settable clock shared by a test and its Manager.
type clock = testenv.Clock

func newClock() *clock { return testenv.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) }

// store is a database the refresh tokens can live in.
type store struct {
	name     string
	open     func(t testing.TB) *sql.DB
	postgres bool
}

var stores = []store{
	{name: "sqlite", open: openSQLite},
	{name: "postgres", open: openPostgres, postgres: true},
}

// eachStore runs fn once per dialect, each with a fresh database.
func eachStore(t *testing.T, fn func(t *testing.T, s store)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) { fn(t, s) })
	}
}

func openSQLite(t testing.TB) *sql.DB {
	t.Helper()
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "auth.db")+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres opens a database whose search_path is a schema of this
// test's own, dropped when the test ends.
func openPostgres(t testing.TB) *sql.DB {
	t.Helper()
	dbURL := testenv.Postgres(t)
	ctx := context.Background()
	schema := "bp_test_" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
	ident := pgx.Identifier{schema}.Sanitize()
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect postgres: %v", err)
	}
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+ident); err != nil {
		admin.Close(ctx)
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, `DROP SCHEMA IF EXISTS `+ident+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { db.Close() }) // before the drop: cleanups run last first
	return db
}

// newManager opens a Manager on a fresh secrets directory and db.
func newManager(t testing.TB, s store, clk *clock) (*token.Manager, token.Config) {
	t.Helper()
	cfg := token.Config{Dir: t.TempDir(), DB: s.open(t), Postgres: s.postgres, Now: clk.Now}
	m, _, err := token.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, cfg
}

// readKey reads the signing key from a secrets directory, to forge tokens
// that only a bug would accept.
func readKey(t *testing.T, dir string) ed25519.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, token.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("key file is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return key.(ed25519.PrivateKey)
}
