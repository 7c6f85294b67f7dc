package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Group commit. An append on its own costs a transaction: a BEGIN, a batch
// of statements, and a COMMIT that waits for the WAL to reach the disk.
// Under load most of Postgres's work is that per-transaction overhead, not
// the rows. So appends go to a few committers; one that is free commits the
// next append as before, and the appends that arrive while all of them are
// busy are committed together, in one transaction of a fixed number of
// statements:
//
//  1. the streams appended to with Any are locked (advisory locks, as alone)
//     and their versions read;
//  2. every stream of the group is locked (FOR UPDATE, in stream id order)
//     and read with the keys, claims and data keys the group would write;
//  3. each append is checked against what was read, in order, exactly as it
//     would be checked alone: a refused one gets its error and writes
//     nothing, the others are written with one statement per table;
//  4. COMMIT, sent with the writes.
//
// Appends of one group touch disjoint streams, keys, claims and subjects:
// one that shares any with another member waits for the group and then
// runs alone, so that it sees the other one committed and is refused (or
// not) as it would have been in sequence. A group that fails before its
// COMMIT (a row another process inserted meanwhile, a lock held too long,
// a deadlock) wrote nothing, and its appends run alone, each on its
// caller's goroutine and context.

// maxGroup bounds the appends of one transaction.
const maxGroup = 64

// groupTimeout bounds a group's statements: the committer, not any one
// caller, owns them.
const groupTimeout = 30 * time.Second

// groupLockTimeout bounds each wait of a group for a lock (Postgres's
// lock_timeout, in the group's transaction only).
const groupLockTimeout = "500ms"

// groupReq is an append waiting for a committer.
type groupReq struct {
	ctx  context.Context
	p    *eventstore.AppendParams
	now  time.Time
	done chan groupOut
}

type groupOut struct {
	res *eventstore.AppendResult
	err error
	// alone tells the caller to commit the append on its own, on its own
	// goroutine and context: nothing of it was written.
	alone bool
}

// The reads a group makes before it writes, all by key; a test holds each
// to an index scan on young tables.
const (
	lockStreamsSQL   = `SELECT stream_id, version FROM streams WHERE stream_id = ANY($1) ORDER BY stream_id COLLATE "C" FOR UPDATE`
	knownKeysSQL     = `SELECT key FROM idempotency WHERE key = ANY($1)`
	knownSubjectsSQL = `SELECT subject FROM data_keys WHERE subject = ANY($1)`
	lockClaimsSQL    = `SELECT c.scope, c.value, c.owner FROM claims c
		JOIN unnest($1::text[], $2::text[]) AS u(scope, value) ON c.scope = u.scope AND c.value = u.value
		ORDER BY c.scope COLLATE "C", c.value COLLATE "C" FOR UPDATE OF c`
)

func (r *groupReq) reply(res *eventstore.AppendResult, err error) {
	r.done <- groupOut{res: res, err: err}
}

func (r *groupReq) runAlone() { r.done <- groupOut{alone: true} }

// errStoreClosed refuses an append that comes after Close.
var errStoreClosed = errors.New("postgres: the store is closed")

// submit hands an append to the committers and waits for its outcome. Once
// a committer has it, the outcome is awaited whatever happens to ctx: the
// append may be committing, and its caller must learn whether it did. (A
// group's wait is bounded by its lock timeout and statement timeout.) An
// append the group could not take is committed here, alone.
func (s *Store) submit(ctx context.Context, p *eventstore.AppendParams, now time.Time) (*eventstore.AppendResult, error) {
	r := &groupReq{ctx: ctx, p: p, now: now, done: make(chan groupOut, 1)}
	s.waiting.Add(1)
	select {
	case s.queue <- r:
		s.waiting.Add(-1)
	case <-ctx.Done():
		s.waiting.Add(-1)
		return nil, ctx.Err()
	case <-s.closed:
		s.waiting.Add(-1)
		return nil, errStoreClosed
	}
	out := <-r.done
	if out.alone {
		return s.appendAlone(ctx, p, now)
	}
	return out.res, out.err
}

// committer takes the next append, and with it those that queued while it
// was busy.
func (s *Store) committer(ctx context.Context) {
	defer s.wg.Done()
	for {
		var first *groupReq
		select {
		case first = <-s.queue:
		case <-ctx.Done():
			return
		}
		reqs := []*groupReq{first}
	gather:
		for len(reqs) < maxGroup {
			select {
			case r := <-s.queue:
				reqs = append(reqs, r)
			default:
				break gather
			}
		}
		s.Took(len(reqs))
		s.commitGroup(ctx, reqs)
	}
}

// commitGroup commits reqs, together where it can. A lone append is
// committed here, so that the committer stays busy for as long as it takes
// and the appends arriving meanwhile queue for the next group. Appends
// the group did not take, or wrote nothing of, are handed back to their
// callers once the group is done, to commit each on its own.
func (s *Store) commitGroup(ctx context.Context, reqs []*groupReq) {
	if len(reqs) == 1 {
		r := reqs[0]
		r.reply(s.appendAlone(r.ctx, r.p, r.now))
		return
	}
	together, alone := partition(reqs)
	if len(together) > 1 {
		outs, err := s.appendGroup(ctx, together)
		if err != nil {
			s.FellBack()
		}
		for i, r := range together {
			switch {
			case err != nil, outs[i].err == errAnyRaced:
				r.runAlone() // nothing of it was written
			default:
				r.reply(outs[i].res, outs[i].err)
			}
		}
	} else {
		alone = append(together, alone...)
	}
	for _, r := range alone {
		r.runAlone()
	}
}

// partition picks the appends that can go together: each that touches
// nothing an earlier one of reqs touches. The rest, and appends that
// release claims (a release and a claim of one value in one append are
// simplest checked by Postgres), run alone after the group, so that they
// see what it committed.
func partition(reqs []*groupReq) (together, alone []*groupReq) {
	touched := map[string]bool{}
	for _, r := range reqs {
		if r.ctx.Err() != nil {
			alone = append(alone, r) // it writes nothing
			continue
		}
		keys := touches(r.p)
		clash := len(r.p.Releases) > 0
		for _, k := range keys {
			clash = clash || touched[k]
			touched[k] = true
		}
		if clash {
			alone = append(alone, r)
		} else {
			together = append(together, r)
		}
	}
	return together, alone
}

// touches names what an append reads or writes besides its events.
func touches(p *eventstore.AppendParams) []string {
	var out []string
	for _, sa := range p.Streams {
		out = append(out, "s\x00"+sa.StreamID)
	}
	if p.Idempotency != nil {
		out = append(out, "i\x00"+p.Idempotency.Key)
	}
	for _, c := range p.Claims {
		out = append(out, "c\x00"+c.Scope+"\x00"+c.Value)
	}
	for _, c := range p.Credentials {
		out = append(out, "k\x00"+c.Subject)
	}
	for _, k := range p.DataKeys {
		out = append(out, "d\x00"+k.Subject)
	}
	return out
}

// groupState is what step 2 of a group read.
type groupState struct {
	anyVersions map[string]int64 // read under the advisory locks
	versions    map[string]int64 // read under FOR UPDATE; absent: no stream
	keys        map[string]bool  // idempotency keys recorded already
	owners      map[[2]string]string
	dataKeys    map[string]bool
}

// appendGroup commits reqs in one transaction. err means nothing was
// written; otherwise outs holds each append's outcome, errAnyRaced for one
// whose Any stream moved and must be run again.
func (s *Store) appendGroup(ctx context.Context, reqs []*groupReq) (outs []groupOut, err error) {
	// Not the committer's context: Close lets a group under way finish.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), groupTimeout)
	defer cancel()
	conn, st, err := s.readGroup(ctx, reqs)
	if err != nil {
		return nil, err
	}
	ended := false
	end := func() {
		if !ended {
			ended = true
			endGroup(conn)
		}
	}
	defer end()
	outs = make([]groupOut, len(reqs))
	w := &groupWrite{}
	var twins []int
	for i, r := range reqs {
		plans, err := st.check(r.p)
		switch {
		case err == errTwin:
			twins = append(twins, i)
			outs[i].err = err // made once the record can be read
		case err != nil:
			outs[i].err = err
		default:
			w.add(i, r, plans, st)
		}
	}
	if len(w.reqs) > 0 {
		// The commit goes in the writes' round trip, so the hook runs
		// before they are sent.
		if s.cfg.BeforeCommit != nil {
			s.cfg.BeforeCommit(ctx)
		}
		if err := w.run(ctx, conn, outs); err != nil {
			var unknown *commitUnknownError
			if !errors.As(err, &unknown) {
				return nil, err // nothing was written
			}
			// The commit may or may not have happened: running the appends
			// again could apply them twice, so each learns of the failure.
			for i := range reqs {
				if outs[i].err == nil {
					outs[i] = groupOut{err: err}
				}
			}
		}
	}
	end() // a group that wrote nothing still holds its locks
	for _, i := range twins {
		key := reqs[i].p.Idempotency.Key
		existing, err := s.Idempotency(ctx, key)
		if err != nil {
			outs[i].err = fmt.Errorf("postgres: read the idempotency record that refused the append: %w", err)
			continue
		}
		outs[i].err = &eventstore.IdempotencyConflictError{Key: key, Existing: existing}
	}
	return outs, nil
}

// errTwin marks an append whose idempotency key is recorded already; its
// error is made once the record can be read.
var errTwin = errors.New("idempotency key recorded already")

// readGroup does steps 1 and 2, what every check of the group needs, in
// the transaction it begins for the group and returns: one round trip
// begins it, sets its lock timeout, takes the locks and reads.
func (s *Store) readGroup(ctx context.Context, reqs []*groupReq) (*pgxpool.Conn, *groupState, error) {
	st := &groupState{anyVersions: map[string]int64{}, versions: map[string]int64{}, keys: map[string]bool{},
		owners: map[[2]string]string{}, dataKeys: map[string]bool{}}
	var anyIDs, ids, keys, scopes, values, subjects []string
	for _, r := range reqs {
		for _, sa := range r.p.Streams {
			ids = append(ids, sa.StreamID)
			if sa.Expected == eventstore.Any {
				anyIDs = append(anyIDs, sa.StreamID)
			}
		}
		if r.p.Idempotency != nil {
			keys = append(keys, r.p.Idempotency.Key)
		}
		for _, c := range r.p.Claims {
			scopes, values = append(scopes, c.Scope), append(values, c.Value)
		}
		for _, k := range r.p.DataKeys {
			subjects = append(subjects, k.Subject)
		}
	}
	b := &pgx.Batch{}
	// A plain begin rather than a pgx.Tx: the group's commit goes with its
	// writes, and a pgx.Tx would send one of its own.
	b.Queue("begin")
	// A group that meets a lock held for long gives up and hands its
	// appends back to be committed alone, rather than hold them all (and
	// the locks it has) meanwhile.
	b.Queue(`SELECT set_config('lock_timeout', $1, true)`, groupLockTimeout)
	if len(anyIDs) > 0 {
		// As alone: queue on each Any stream's advisory lock before reading
		// its version, and before the transaction's first write (the
		// statements of a batch run in order).
		anyIDs = queueAnyLocks(b, anyIDs)
	}
	slices.Sort(ids)
	// Sorted, as appends alone lock them, so that no two transactions wait
	// on each other's streams in a cycle.
	b.Queue(lockStreamsSQL, ids)
	if len(keys) > 0 {
		b.Queue(knownKeysSQL, keys)
	}
	if len(scopes) > 0 {
		b.Queue(lockClaimsSQL, scopes, values)
	}
	if len(subjects) > 0 {
		b.Queue(knownSubjectsSQL, subjects)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: connection: %w", err)
	}
	br := conn.SendBatch(ctx, b)
	err = func() error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("postgres: begin: %w", err)
		}
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("postgres: lock timeout: %w", err)
		}
		if len(anyIDs) > 0 {
			if err := readAnyLocks(br, anyIDs, st.anyVersions); err != nil {
				return err
			}
		}
		if err := collectVersions(br, st.versions); err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := collectSet(br, st.keys, "idempotency keys"); err != nil {
				return err
			}
		}
		if len(scopes) > 0 {
			rows, err := br.Query()
			if err != nil {
				return fmt.Errorf("postgres: read claims: %w", err)
			}
			for rows.Next() {
				var scope, value, owner string
				if err := rows.Scan(&scope, &value, &owner); err != nil {
					rows.Close()
					return fmt.Errorf("postgres: read claims: %w", err)
				}
				st.owners[[2]string{scope, value}] = owner
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("postgres: read claims: %w", err)
			}
		}
		if len(subjects) > 0 {
			return collectSet(br, st.dataKeys, "data keys")
		}
		return nil
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		endGroup(conn)
		return nil, nil, err
	}
	return conn, st, nil
}

// endGroup rolls back what a group left open, if anything, and gives its
// connection back to the pool; a connection that cannot be rolled back is
// closed rather than given back mid-transaction.
func endGroup(conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.Background(), groupRollbackTimeout)
		_, err := conn.Exec(ctx, "rollback")
		cancel()
		if err != nil || conn.Conn().PgConn().TxStatus() != 'I' {
			conn.Conn().Close(context.Background()) //nolint:errcheck // the pool drops a closed connection
		}
	}
	conn.Release()
}

// groupRollbackTimeout bounds the rollback of a group that failed.
const groupRollbackTimeout = 5 * time.Second

// commitUnknownError is a group whose commit was sent but whose outcome
// never came back: it may have committed.
type commitUnknownError struct{ err error }

func (e *commitUnknownError) Error() string {
	return "postgres: commit: the outcome is unknown: " + e.err.Error()
}

func (e *commitUnknownError) Unwrap() error { return e.err }

func collectVersions(br pgx.BatchResults, into map[string]int64) error {
	rows, err := br.Query()
	if err != nil {
		return fmt.Errorf("postgres: read stream versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return fmt.Errorf("postgres: read stream versions: %w", err)
		}
		into[id] = v
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: read stream versions: %w", err)
	}
	return nil
}

func collectSet(br pgx.BatchResults, into map[string]bool, what string) error {
	rows, err := br.Query()
	if err != nil {
		return fmt.Errorf("postgres: read %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("postgres: read %s: %w", what, err)
		}
		into[v] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: read %s: %w", what, err)
	}
	return nil
}

// check does step 3 for one append: what it would be refused for alone,
// in the order an append alone finds it (its streams in id order, then its
// claims, data keys and idempotency key), or its plans.
func (st *groupState) check(p *eventstore.AppendParams) ([]streamPlan, error) {
	plans := newPlans(p.Streams)
	for _, i := range lockOrder(plans) {
		sp := &plans[i]
		current := st.versions[sp.StreamID] // 0: no stream
		if sp.isAny {
			if current != st.anyVersions[sp.StreamID] {
				return nil, errAnyRaced
			}
			sp.base = current
			continue
		}
		if current != sp.base {
			return nil, &eventstore.ConcurrencyError{StreamID: sp.StreamID, Expected: sp.Expected, Actual: current}
		}
	}
	for _, c := range p.Claims {
		if owner, ok := st.owners[[2]string{c.Scope, c.Value}]; ok && owner != c.Owner {
			return nil, &eventstore.ClaimConflictError{Scope: c.Scope, Value: c.Value, Owner: owner}
		}
	}
	for _, k := range p.DataKeys {
		if st.dataKeys[k.Subject] {
			return nil, fmt.Errorf("data key of %s: %w", k.Subject, eventstore.ErrDataKeyExists)
		}
	}
	if p.Idempotency != nil && st.keys[p.Idempotency.Key] {
		return nil, errTwin
	}
	return plans, nil
}
