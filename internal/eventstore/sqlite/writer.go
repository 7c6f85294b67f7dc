package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// writeReq is one unit of work for the writer: it runs inside a savepoint of
// a transaction it may share with other requests.
type writeReq struct {
	ctx   context.Context
	apply func(ctx context.Context, tx wtx) error
	// events reports whether the write appended events (to wake readers).
	events bool
	// unsynced: the write need not survive a crash of the machine (see
	// writeUnsynced).
	unsynced bool
	done     chan error
}

// write queues fn for the writer and waits until its transaction committed
// or failed. fn's effects are durable when write returns nil.
func (s *Store) write(ctx context.Context, events bool, fn func(context.Context, wtx) error) error {
	return s.queue(ctx, &writeReq{ctx: ctx, apply: fn, events: events, done: make(chan error, 1)})
}

// writeUnsynced is write for what may be lost when the machine (not the
// process) crashes: trace steps, and outbox marks whose loss costs a
// publish that the streams drop as a duplicate. A transaction of such
// writes alone commits with synchronous=NORMAL, without an fsync of its
// own; the next synced commit's fsync of the log makes it durable too.
// Postgres commits the same writes with synchronous_commit off.
func (s *Store) writeUnsynced(ctx context.Context, fn func(context.Context, wtx) error) error {
	return s.queue(ctx, &writeReq{ctx: ctx, apply: fn, unsynced: true, done: make(chan error, 1)})
}

func (s *Store) queue(ctx context.Context, req *writeReq) error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return eventstore.ErrClosed
	}
	select {
	case s.writes <- req:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return ctx.Err()
	}
	s.closeMu.RUnlock()
	// Wait for the outcome even if ctx ends: once queued, the write may
	// commit, and the caller must not report failure for a durable write.
	return <-req.done
}

// writeLoop is group commit: it takes every write queued while the previous
// transaction was committing and commits them together, so many concurrent
// appends share one fsync. Each write runs in its own savepoint, so a failed
// write rolls back alone and the others still commit.
func (s *Store) writeLoop() {
	defer s.wg.Done()
	batch := make([]*writeReq, 0, s.cfg.MaxBatch)
	for {
		select {
		case req := <-s.writes:
			batch = append(batch[:0], req)
		case <-s.done:
			s.drain()
			return
		}
	fill:
		for len(batch) < s.cfg.MaxBatch {
			select {
			case req := <-s.writes:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		s.Took(len(batch))
		s.commit(batch)
	}
}

// drain fails the writes still queued when the store closes.
func (s *Store) drain() {
	for {
		select {
		case req := <-s.writes:
			req.done <- eventstore.ErrClosed
		default:
			return
		}
	}
}

func (s *Store) commit(batch []*writeReq) {
	errs := make([]error, len(batch))
	wrote := false
	err := func() error {
		ctx := context.Background() // a caller's cancellation must not abort the others' commit
		if err := s.setSynchronous(ctx, synchronousFor(batch, s.cfg.Synchronous)); err != nil {
			return err
		}
		sqlTx, err := s.writeDB.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: begin: %w", err)
		}
		defer sqlTx.Rollback() //nolint:errcheck // a no-op after Commit
		if err := s.noticeOtherWriters(ctx, sqlTx); err != nil {
			return err
		}
		tx := wtx{Tx: sqlTx, stmts: s.stmts}
		for i, req := range batch {
			if err := req.ctx.Err(); err != nil {
				errs[i] = err
				continue
			}
			errs[i] = applyInSavepoint(ctx, tx, req)
			if errs[i] == nil && req.events {
				wrote = true
			}
		}
		if s.cfg.BeforeCommit != nil {
			s.cfg.BeforeCommit(ctx)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: commit: %w", err)
		}
		return nil
	}()
	for i, req := range batch {
		if err != nil {
			req.done <- err
		} else {
			req.done <- errs[i]
		}
	}
	if err == nil && wrote {
		s.Broadcast()
	}
}

func applyInSavepoint(ctx context.Context, tx wtx, req *writeReq) error {
	if _, err := tx.ExecContext(ctx, sqlSavepoint); err != nil {
		return fmt.Errorf("sqlite: savepoint: %w", err)
	}
	if err := req.apply(ctx, tx); err != nil {
		if _, rerr := tx.ExecContext(ctx, sqlRollbackTo); rerr != nil {
			return fmt.Errorf("sqlite: rollback to savepoint: %w (after %w)", rerr, err)
		}
		if _, rerr := tx.ExecContext(ctx, sqlRelease); rerr != nil {
			return fmt.Errorf("sqlite: release savepoint: %w (after %w)", rerr, err)
		}
		return err
	}
	if _, err := tx.ExecContext(ctx, sqlRelease); err != nil {
		return fmt.Errorf("sqlite: release savepoint: %w", err)
	}
	return nil
}

// synchronousFor is the synchronous mode a batch commits with: NORMAL when
// every write in it is unsynced, the configured mode otherwise.
func synchronousFor(batch []*writeReq, configured string) string {
	for _, req := range batch {
		if !req.unsynced {
			return configured
		}
	}
	return "NORMAL"
}

// setSynchronous switches the writer's connection to mode, between
// transactions. When the switch fails the mode is taken as unknown, so a
// synced batch never commits until a switch to its mode has succeeded.
func (s *Store) setSynchronous(ctx context.Context, mode string) error {
	if mode == s.synchronous {
		return nil
	}
	s.synchronous = ""
	if _, err := s.writeDB.ExecContext(ctx, `PRAGMA synchronous = `+mode); err != nil {
		return fmt.Errorf("sqlite: synchronous %s: %w", mode, err)
	}
	s.synchronous = mode
	return nil
}

// noticeOtherWriters counts a commit of another process since the writer's
// last transaction (see eventstore.OtherWriters). SQLite tells a
// connection when others changed the database: PRAGMA data_version moves
// for every commit but the connection's own, and this connection is the
// only one of the process that writes. A commit is noticed at the next
// write rather than at once; a state cached meanwhile costs a conflict at
// that write, never a wrong decision.
func (s *Store) noticeOtherWriters(ctx context.Context, tx *sql.Tx) error {
	var v int64
	if err := tx.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return fmt.Errorf("sqlite: data version: %w", err)
	}
	if v != s.dataVersion {
		s.dataVersion = v
		s.Heard()
	}
	return nil
}
