package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The writer's hot statements. SQLite spends as long compiling a short
// INSERT as running it, and the writer is the store's bottleneck, so these
// are compiled once when the store opens and only bound and run after.
const (
	sqlSavepoint   = `SAVEPOINT w`
	sqlRelease     = `RELEASE w`
	sqlRollbackTo  = `ROLLBACK TO w`
	sqlVersion     = `SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = ?`
	sqlInsertEvent = `INSERT INTO events (event_id, stream_id, stream_version, category, type, schema_version, data, metadata, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertOutbox      = `INSERT INTO outbox (global_position) VALUES (?)`
	sqlInsertIdempotency = `INSERT INTO idempotency (key, fingerprint, status, response, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`
	sqlInsertTraceStep = `INSERT INTO trace_steps (trace_id, step, status, detail, at) VALUES (?, ?, ?, ?, ?)`
	sqlReleaseClaim    = `DELETE FROM claims WHERE scope = ? AND value = ? AND owner = ?`
	sqlInsertClaim     = `INSERT INTO claims (scope, value, owner) VALUES (?, ?, ?) ON CONFLICT (scope, value) DO NOTHING`
	sqlClaimOwner      = `SELECT owner FROM claims WHERE scope = ? AND value = ?`
	sqlPutCredential   = `INSERT INTO credentials (subject, secret, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (subject) DO UPDATE SET secret = excluded.secret, updated_at = excluded.updated_at`
	sqlInsertDataKey = `INSERT INTO data_keys (subject, wrapped, created_at) VALUES (?, ?, ?) ON CONFLICT (subject) DO NOTHING`
	sqlMarkSent      = `UPDATE outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL`

	sqlReadStream = `SELECT ` + eventColumns + ` FROM events WHERE stream_id = ? AND stream_version >= ?
		ORDER BY stream_version LIMIT ?`
	sqlIdempotency = `SELECT fingerprint, status, response, created_at FROM idempotency WHERE key = ?`
	sqlDataKey     = `SELECT wrapped, erased_at FROM data_keys WHERE subject = ?`
)

var writerStatements = []string{sqlSavepoint, sqlRelease, sqlRollbackTo, sqlVersion, sqlInsertEvent, sqlInsertOutbox,
	sqlInsertIdempotency, sqlInsertTraceStep, sqlReleaseClaim, sqlInsertClaim, sqlClaimOwner, sqlPutCredential, sqlInsertDataKey,
	sqlMarkSent}

// readerStatements are what every command reads: its streams, its
// idempotency key and the data keys of personal fields.
var readerStatements = []string{sqlReadStream, sqlVersion, sqlIdempotency, sqlDataKey, sqlClaimOwner}

// prepared maps a statement's text to its compiled form. It is filled
// before the writer starts and only read after, so it needs no lock.
type prepared map[string]*sql.Stmt

// prepare compiles queries on db. With the writer's single connection, a
// statement must be prepared while no transaction holds that connection,
// which is why this runs when the store opens rather than on first use.
func prepare(ctx context.Context, db *sql.DB, queries []string) (prepared, error) {
	p := prepared{}
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("sqlite: prepare %q: %w", q, err), p.Close())
		}
		p[q] = st
	}
	return p, nil
}

// Close releases every statement.
func (p prepared) Close() error {
	var errs []error
	for _, st := range p {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// wtx is a writer transaction that runs the prepared statements compiled
// already and any other statement as usual.
type wtx struct {
	*sql.Tx
	stmts prepared
}

// ExecContext runs query, compiled already when it is one of the writer's.
func (t wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmts[query]; st != nil {
		return t.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryRowContext runs query, compiled already when it is one of the
// writer's.
func (t wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmts[query]; st != nil {
		return t.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// pdb is the readers' pool, running the statements compiled already as
// such. database/sql compiles a statement again on each connection of the
// pool that first runs it, then keeps it there.
type pdb struct {
	*sql.DB
	stmts prepared
}

// QueryContext runs query, compiled already when it is one of the readers'.
func (d pdb) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := d.stmts[query]; st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.DB.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query, compiled already when it is one of the
// readers'.
func (d pdb) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := d.stmts[query]; st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.DB.QueryRowContext(ctx, query, args...)
}

// Close releases the statements, then the pool.
func (d pdb) Close() error { return errors.Join(d.stmts.Close(), d.DB.Close()) }
