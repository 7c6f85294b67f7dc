package projection

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// registryDDL creates the table that says which generation of each
// projection readers see, and the schema it was built with.
const registryDDL = `CREATE TABLE IF NOT EXISTS projections (
	name        TEXT PRIMARY KEY,
	generation  INTEGER NOT NULL,
	schema_hash TEXT NOT NULL
)`

func physical(p Projection, logical string, gen int) string {
	return fmt.Sprintf("%s_%s_g%d", p.Name(), logical, gen)
}

func positionsTable(p Projection, gen int) string {
	return fmt.Sprintf("%s__positions_g%d", p.Name(), gen)
}

// tablesOf maps a generation's logical tables to physical names.
func tablesOf(p Projection, gen int) map[string]string {
	m := map[string]string{}
	for _, t := range p.Tables() {
		m[t] = physical(p, t, gen)
	}
	return m
}

// schemaHash identifies a projection's table definitions: a change means
// the read model must be rebuilt.
func schemaHash(p Projection, d Dialect) string {
	parts := p.Create(d)
	for _, t := range p.Tables() {
		if sel := viewSelect(p, d, t); sel != "*" {
			parts = append(parts, "VIEW "+t+" AS SELECT "+sel)
		}
	}
	h := sha256.Sum256([]byte(strings.Join(parts, "\n;\n")))
	return hex.EncodeToString(h[:8])
}

// createGeneration creates a generation's tables and its positions table,
// dropping leftovers of an interrupted rebuild first. With deferIndexes it
// leaves out the secondary indexes (CREATE INDEX statements) and returns
// them for the caller to run once the tables are filled: building an
// index over loaded rows sorts once, where keeping it up to date row by row
// costs a random write per row and index. Only keys (primary and unique,
// which upserts rely on) are created up front.
func (r *Runner) createGeneration(ctx context.Context, tx *sql.Tx, p Projection, gen int, deferIndexes bool) ([]string, error) {
	tables := tablesOf(p, gen)
	var stmts, deferred []string
	for _, phys := range tables {
		stmts = append(stmts, "DROP TABLE IF EXISTS "+phys)
	}
	pos := positionsTable(p, gen)
	stmts = append(stmts, "DROP TABLE IF EXISTS "+pos,
		`CREATE TABLE `+pos+` (stream_id TEXT PRIMARY KEY, version BIGINT NOT NULL, global_position BIGINT NOT NULL, tx_id BIGINT NOT NULL, recorded_at TEXT NOT NULL)`)
	for _, ddl := range p.Create(r.db.Dialect) {
		q, err := expand(r.db.Dialect, tables, ddl)
		if err != nil {
			return nil, err
		}
		if deferIndexes && strings.HasPrefix(strings.TrimSpace(q), "CREATE INDEX ") {
			deferred = append(deferred, q)
			continue
		}
		stmts = append(stmts, q)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return nil, fmt.Errorf("projection %s: create generation %d: %w", p.Name(), gen, err)
		}
	}
	return deferred, nil
}

// showGeneration points the views at a generation and records it.
func (r *Runner) showGeneration(ctx context.Context, tx *sql.Tx, p Projection, gen int) error {
	for logical, phys := range tablesOf(p, gen) {
		view := "CREATE VIEW " + logical + " AS SELECT " + viewSelect(p, r.db.Dialect, logical) + " FROM " + phys
		for _, s := range []string{"DROP VIEW IF EXISTS " + logical, view} {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("projection %s: view %s: %w", p.Name(), logical, err)
			}
		}
	}
	q := Rebind(`INSERT INTO projections (name, generation, schema_hash) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET generation = excluded.generation, schema_hash = excluded.schema_hash`)
	if _, err := tx.ExecContext(ctx, q, p.Name(), gen, schemaHash(p, r.db.Dialect)); err != nil {
		return fmt.Errorf("projection %s: record generation: %w", p.Name(), err)
	}
	return nil
}

func (r *Runner) dropGeneration(ctx context.Context, p Projection, gen int) error {
	return r.db.inTx(ctx, func(tx *sql.Tx) error {
		for _, phys := range tablesOf(p, gen) {
			if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+phys); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+positionsTable(p, gen))
		return err
	})
}

// lockMode is how current locks a projection's registry row.
type lockMode int

const (
	// lockShare holds off a swap until the transaction ends.
	lockShare lockMode = iota
	// lockSwap is taken by the swap itself.
	lockSwap
	// lockShareAsync is lockShare for a transaction whose commit need not
	// wait for the WAL flush (see DB.flushed): the statement says so too,
	// saving a live batch a round trip. Were the registry row missing, the
	// commit would wait, which is only slower.
	lockShareAsync
)

// current returns the generation readers see, locking its registry row
// (Postgres; SQLite has one writer anyway).
func (db *DB) current(ctx context.Context, tx *sql.Tx, name string, lock lockMode) (gen int, hash string, err error) {
	query, dest, g, h := db.currentQuery(lock)
	err = tx.QueryRowContext(ctx, query, name).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	return *g, *h, err
}

// currentQuery is current's query, taking the name, and the destinations
// of its columns, among them the generation and the schema hash.
func (db *DB) currentQuery(lock lockMode) (query string, dest []any, gen *int, hash *string) {
	gen, hash = new(int), new(string)
	cols, lockClause := `generation, schema_hash`, ``
	dest = []any{gen, hash}
	if db.Dialect == Postgres {
		switch lock {
		case lockSwap:
			lockClause = ` FOR UPDATE`
		case lockShareAsync:
			cols, lockClause = cols+`, set_config('synchronous_commit', 'off', true)`, ` FOR SHARE`
			dest = append(dest, new(string))
		default:
			lockClause = ` FOR SHARE`
		}
	}
	return Rebind(`SELECT ` + cols + ` FROM projections WHERE name = ?` + lockClause), dest, gen, hash
}

// current is DB.current for p.
func (r *Runner) current(ctx context.Context, tx *sql.Tx, p Projection, lock lockMode) (gen int, hash string, err error) {
	return r.db.current(ctx, tx, p.Name(), lock)
}
