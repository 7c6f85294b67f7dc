package projection

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/bluepoint/bluepoint/internal/eventstore"
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
	h := sha256.Sum256([]byte(strings.Join(p.Create(d), "\n;\n")))
	return hex.EncodeToString(h[:8])
}

// createGeneration creates a generation's tables and its positions table,
// dropping leftovers of an interrupted rebuild first.
func (r *Runner) createGeneration(ctx context.Context, tx *sql.Tx, p Projection, gen int) error {
	tables := tablesOf(p, gen)
	var stmts []string
	for _, phys := range tables {
		stmts = append(stmts, "DROP TABLE IF EXISTS "+phys)
	}
	pos := positionsTable(p, gen)
	stmts = append(stmts, "DROP TABLE IF EXISTS "+pos,
		`CREATE TABLE `+pos+` (stream_id TEXT PRIMARY KEY, version BIGINT NOT NULL, global_position BIGINT NOT NULL, tx_id BIGINT NOT NULL, recorded_at TEXT NOT NULL)`)
	for _, ddl := range p.Create(r.db.Dialect) {
		q, err := expand(r.db.Dialect, tables, ddl)
		if err != nil {
			return err
		}
		stmts = append(stmts, q)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("projection %s: create generation %d: %w", p.Name(), gen, err)
		}
	}
	return nil
}

// showGeneration points the views at a generation and records it.
func (r *Runner) showGeneration(ctx context.Context, tx *sql.Tx, p Projection, gen int) error {
	for logical, phys := range tablesOf(p, gen) {
		for _, s := range []string{"DROP VIEW IF EXISTS " + logical, "CREATE VIEW " + logical + " AS SELECT * FROM " + phys} {
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

// current returns the generation readers see, locking its registry row
// against a swap until tx ends (Postgres; SQLite has one writer anyway).
func (r *Runner) current(ctx context.Context, tx *sql.Tx, p Projection, forSwap bool) (gen int, hash string, err error) {
	q := `SELECT generation, schema_hash FROM projections WHERE name = ?`
	if r.db.Dialect == Postgres {
		if forSwap {
			q += ` FOR UPDATE`
		} else {
			q += ` FOR SHARE`
		}
	}
	err = tx.QueryRowContext(ctx, Rebind(q), p.Name()).Scan(&gen, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	return gen, hash, err
}

// applyTo applies e to generation gen unless that generation already has
// it: the stream version says so exactly. It reports whether it applied.
func (r *Runner) applyTo(ctx context.Context, tx *sql.Tx, p Projection, gen int, e eventstore.Event) (bool, error) {
	pos := positionsTable(p, gen)
	var version int64
	err := tx.QueryRowContext(ctx, Rebind(`SELECT version FROM `+pos+` WHERE stream_id = ?`), e.StreamID).Scan(&version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("projection %s: read position: %w", p.Name(), err)
	}
	if e.StreamVersion <= version {
		return false, nil
	}
	if err := p.Apply(ctx, &Tx{tx: tx, dialect: r.db.Dialect, tables: tablesOf(p, gen)}, e); err != nil {
		return false, fmt.Errorf("projection %s: apply %s %s: %w", p.Name(), e.Type, e.ID, err)
	}
	_, err = tx.ExecContext(ctx, Rebind(`INSERT INTO `+pos+` (stream_id, version, global_position, tx_id, recorded_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, global_position = excluded.global_position,
		tx_id = excluded.tx_id, recorded_at = excluded.recorded_at`),
		e.StreamID, e.StreamVersion, e.Position.Global, int64(e.Position.TxID), e.RecordedAt.UTC().Format("2006-01-02T15:04:05.000000Z"))
	if err != nil {
		return false, fmt.Errorf("projection %s: record position: %w", p.Name(), err)
	}
	return true, nil
}
