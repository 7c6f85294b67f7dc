package projection

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgTx is a live batch's transaction on Postgres. It runs on the pgx
// connection under database/sql's, which can send several statements in
// one round trip: the begin goes with the generation's read and, when the
// generation is the one the last batch found, with the batch's first read
// (the positions of its streams); the writes wait for the next read or for
// the commit. A batch of sign-ups in the users read model costs three round
// trips (begin, generation and positions; accounts; writes and commit)
// where it cost seven.
type pgTx struct {
	conn   *pgx.Conn
	queued pgx.Batch
	sends  *atomic.Int64 // counts the round trips
}

// firstRead is a read a live batch makes before anything else, on the
// tables of the generation it finds: query gives it for a generation in
// Tx.QueryIn's form, keys are its keys, and scan takes its rows.
type firstRead struct {
	query func(gen int) string
	keys  []string
	scan  func(Rows) error
}

// errStaleGuess: the first read, sent with the generation's read for the
// generation the last batch found, failed, and the generation is another
// one: a rebuild swapped it in and dropped the tables read.
var errStaleGuess = errors.New("the generation changed")

// queue holds a statement whose result nobody reads until the next one is
// sent.
func (p *pgTx) queue(query string, args []any) { p.queued.Queue(query, args...) }

// send sends the queued statements and then query, and returns the
// results positioned at query's. A queued statement that failed fails the
// send, closing the results; its error names it by the start of its SQL.
func (p *pgTx) send(ctx context.Context, query string, args []any) (pgx.BatchResults, error) {
	b := p.queued
	p.queued = pgx.Batch{}
	n := len(b.QueuedQueries)
	b.Queue(query, args...)
	p.sends.Add(1)
	br := p.conn.SendBatch(ctx, &b)
	for i := range n {
		if _, err := br.Exec(); err != nil {
			br.Close()
			what := b.QueuedQueries[i].SQL
			// A statement pgx could not prepare or encode fails the batch
			// before anything ran: the error names it.
			if pe := (pgx.ErrPreprocessingBatch{}); errors.As(err, &pe) {
				what = pe.SQL()
			}
			return nil, fmt.Errorf("projection: %s: %w", clip(what), err)
		}
	}
	return br, nil
}

// clip shortens a statement for an error message: the start names it.
func clip(sql string) string {
	const keep = 80
	if len(sql) <= keep {
		return sql
	}
	return sql[:keep] + "..."
}

func (p *pgTx) exec(ctx context.Context, query string, args []any) (sql.Result, error) {
	br, err := p.send(ctx, query, args)
	if err != nil {
		return nil, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("projection: %w", err)
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

func (p *pgTx) get(ctx context.Context, query string, args, dest []any) error {
	br, err := p.send(ctx, query, args)
	if err != nil {
		return err
	}
	err = br.QueryRow().Scan(dest...)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err // pgx.ErrNoRows is sql.ErrNoRows too
}

func (p *pgTx) each(ctx context.Context, query string, args []any, scan func(Rows) error) error {
	br, err := p.send(ctx, query, args)
	if err != nil {
		return err
	}
	err = func() error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("projection: %w", err)
	}
	return nil
}

// commit sends the queued writes with the commit.
func (p *pgTx) commit(ctx context.Context) error {
	br, err := p.send(ctx, "commit", nil)
	if err == nil {
		var tag pgconn.CommandTag
		tag, err = br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err == nil && tag.String() != "COMMIT" {
			err = fmt.Errorf("the transaction ended with %s", tag) // it had failed
		}
	}
	if err != nil {
		return fmt.Errorf("read database: commit: %w", err)
	}
	return nil
}

// rollbackTimeout bounds the rollback of a failed live batch, which runs
// past its context's end.
const rollbackTimeout = 5 * time.Second

// begin begins the transaction and reads the generation into dest (gen
// points into it; 0 when the projection has none yet). With first and a
// guess, first's read of the guessed generation goes in the same round
// trip, and done says whether it was taken: only when the guess was right.
// A first read that failed on a wrong guess gives errStaleGuess, with the
// transaction aborted.
func (p *pgTx) begin(ctx context.Context, query string, args, dest []any, gen *int, first *firstRead, guess int) (done bool, err error) {
	if first == nil || guess <= 0 {
		p.queue("begin", nil)
		err := p.get(ctx, query, args, dest)
		if errors.Is(err, sql.ErrNoRows) {
			*gen, err = 0, nil
		}
		return false, err
	}
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(query, args...)
	b.Queue(Rebind(anyForm(first.query(guess))), first.keys)
	p.sends.Add(1)
	br := p.conn.SendBatch(ctx, b)
	read := false // the generation
	err = func() error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		if err := br.QueryRow().Scan(dest...); errors.Is(err, pgx.ErrNoRows) {
			*gen = 0
		} else if err != nil {
			return err
		}
		read = true
		rows, err := br.Query()
		if err != nil {
			return err
		}
		// A wrong guess is not taken: the caller reads the right tables. Its
		// failure (the tables dropped) aborted the transaction.
		done = *gen == guess
		for done && rows.Next() {
			if err := first.scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		return rows.Err()
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil && read && *gen != guess:
		return false, fmt.Errorf("%w: %w", errStaleGuess, err)
	case err != nil:
		return false, fmt.Errorf("projection: %w", err)
	}
	return done, nil
}

// inPgBatchTx is inBatchTx on Postgres: see pgTx. A batch whose guessed
// generation was swapped out and dropped begins again, once, without a
// guess.
func (db *DB) inPgBatchTx(ctx context.Context, name string, lock lockMode, first *firstRead, fn func(t *Tx, gen int, firstDone bool) error) error {
	conn, err := db.Write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("read database: connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("read database: a live batch needs a pgx connection, not %T", dc)
		}
		c := sc.Conn()
		last, _ := db.gens.Load(name)
		guess, _ := last.(int)
		err := db.pgBatchOnce(ctx, c, name, lock, first, guess, fn)
		if guess > 0 && errors.Is(err, errStaleGuess) && !errors.Is(err, driver.ErrBadConn) {
			err = db.pgBatchOnce(ctx, c, name, lock, first, 0, fn)
		}
		return err
	})
}

// pgBatchOnce is one attempt of inPgBatchTx, with guess the generation the
// first read is sent for (0: none).
func (db *DB) pgBatchOnce(ctx context.Context, c *pgx.Conn, name string, lock lockMode, first *firstRead, guess int,
	fn func(t *Tx, gen int, firstDone bool) error) error {
	p := &pgTx{conn: c, sends: &db.liveSends}
	query, dest, gen, _ := db.currentQuery(lock)
	done, err := p.begin(ctx, query, []any{name}, dest, gen, first, guess)
	if err != nil && !errors.Is(err, errStaleGuess) {
		err = fmt.Errorf("read database: generation of %s: %w", name, err)
	}
	if err == nil {
		db.gens.Store(name, *gen)
		err = fn(&Tx{pg: p, dialect: Postgres}, *gen, done)
	}
	if err == nil {
		if err = p.commit(ctx); err != nil {
			err = fmt.Errorf("projection %s: %w", name, err)
		}
	}
	if err != nil && c.PgConn().TxStatus() != 'I' {
		// Left in its transaction, the connection would wait in the
		// pool holding the generation's row against a swap until its
		// next use. Failing that, the error tells database/sql to drop
		// it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		_, _ = c.Exec(rctx, "rollback")
		cancel()
		if c.PgConn().TxStatus() != 'I' {
			err = errors.Join(err, driver.ErrBadConn)
		}
	}
	return err
}
