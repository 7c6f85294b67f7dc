package sqlite

import (
	"context"
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
	done   chan error
}

// write queues fn for the writer and waits until its transaction committed
// or failed. fn's effects are durable when write returns nil.
func (s *Store) write(ctx context.Context, events bool, fn func(context.Context, wtx) error) error {
	req := &writeReq{ctx: ctx, apply: fn, events: events, done: make(chan error, 1)}
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
		sqlTx, err := s.writeDB.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: begin: %w", err)
		}
		defer sqlTx.Rollback() //nolint:errcheck // a no-op after Commit
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
