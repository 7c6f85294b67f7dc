package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// groupWrite gathers step 3's writes, one statement per table.
type groupWrite struct {
	reqs  []int // indexes into the group, in order
	plans [][]streamPlan
	nows  []time.Time

	moved                       []string
	movedVersions               []int64
	newIDs, newCategories       []string
	newVersions                 []int64
	claimScopes, claimValues    []string
	claimOwners                 []string
	credSubjects                []string
	credSecrets                 [][]byte
	credAt                      []time.Time
	keySubjects                 []string
	keyWrapped                  [][]byte
	keyAt                       []time.Time
	idemKeys, idemFingerprints  []string
	idemStatuses                []int32
	idemResponses               []*string
	idemAt                      []time.Time
	traceSteps                  []eventstore.TraceStep
	eventIDs, eventStreams      []string
	eventCategories, eventTypes []string
	eventData, eventMeta        []string
	eventVersions               []int64
	eventSchemas                []int32
	eventRecorded               []time.Time
}

// add queues one checked append's writes.
func (w *groupWrite) add(i int, r *groupReq, plans []streamPlan, st *groupState) {
	w.reqs = append(w.reqs, i)
	w.plans = append(w.plans, plans)
	w.nows = append(w.nows, r.now)
	p := r.p
	for _, sp := range plans {
		if len(sp.Events) == 0 {
			continue // a pin: its row stays locked until the commit
		}
		next := sp.base + int64(len(sp.Events))
		if _, exists := st.versions[sp.StreamID]; exists {
			w.moved, w.movedVersions = append(w.moved, sp.StreamID), append(w.movedVersions, next)
		} else {
			w.newIDs = append(w.newIDs, sp.StreamID)
			w.newCategories = append(w.newCategories, eventstore.Category(sp.StreamID))
			w.newVersions = append(w.newVersions, next)
		}
		for j, e := range sp.Events {
			m, _ := json.Marshal(e.Metadata) // a struct of strings always marshals
			w.eventIDs = append(w.eventIDs, e.ID.String())
			w.eventStreams = append(w.eventStreams, sp.StreamID)
			w.eventVersions = append(w.eventVersions, sp.base+int64(j)+1)
			w.eventCategories = append(w.eventCategories, eventstore.Category(sp.StreamID))
			w.eventTypes = append(w.eventTypes, e.Type)
			w.eventSchemas = append(w.eventSchemas, int32(e.SchemaVersion))
			w.eventData = append(w.eventData, string(e.Data))
			w.eventMeta = append(w.eventMeta, string(m))
			w.eventRecorded = append(w.eventRecorded, r.now)
		}
	}
	for _, c := range p.Claims {
		if _, held := st.owners[[2]string{c.Scope, c.Value}]; held {
			continue // held by the same owner already: nothing to do
		}
		w.claimScopes = append(w.claimScopes, c.Scope)
		w.claimValues = append(w.claimValues, c.Value)
		w.claimOwners = append(w.claimOwners, c.Owner)
	}
	for _, c := range p.Credentials {
		w.credSubjects, w.credSecrets, w.credAt = append(w.credSubjects, c.Subject), append(w.credSecrets, c.Secret), append(w.credAt, r.now)
	}
	for _, k := range p.DataKeys {
		w.keySubjects, w.keyWrapped, w.keyAt = append(w.keySubjects, k.Subject), append(w.keyWrapped, k.Wrapped), append(w.keyAt, r.now)
	}
	if rec := p.Idempotency; rec != nil {
		var response *string
		if rec.Response != nil {
			v := string(rec.Response)
			response = &v
		}
		w.idemKeys = append(w.idemKeys, rec.Key)
		w.idemFingerprints = append(w.idemFingerprints, rec.Fingerprint)
		w.idemStatuses = append(w.idemStatuses, int32(rec.Status))
		w.idemResponses = append(w.idemResponses, response)
		w.idemAt = append(w.idemAt, rec.CreatedAt)
	}
	w.traceSteps = append(w.traceSteps, p.TraceSteps...)
}

// run sends the writes and fills in the outcome of each append written.
// Plain INSERTs (no ON CONFLICT) make a row that another transaction
// inserted after step 2 fail the whole group, which then runs alone. The
// inserts read their arrays in the select list, not with unnest in FROM:
// see projection/unnest.go for why.
func (w *groupWrite) run(ctx context.Context, conn *pgxpool.Conn, outs []groupOut) error {
	b := &pgx.Batch{}
	var stmts []string
	queue := func(what, sql string, args ...any) {
		b.Queue(sql, args...)
		stmts = append(stmts, what)
	}
	if len(w.moved) > 0 {
		queue("move streams", `UPDATE streams AS s SET version = u.version
			FROM unnest($1::text[], $2::bigint[]) AS u(stream_id, version) WHERE s.stream_id = u.stream_id`,
			w.moved, w.movedVersions)
	}
	if len(w.newIDs) > 0 {
		queue("create streams", `INSERT INTO streams (stream_id, category, version)
			SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::bigint[])`, w.newIDs, w.newCategories, w.newVersions)
	}
	hasEvents := len(w.eventIDs) > 0
	if hasEvents {
		b.Queue(`WITH input AS (
				SELECT unnest($1::uuid[]) AS event_id, unnest($2::text[]) AS stream_id, unnest($3::bigint[]) AS stream_version,
					unnest($4::text[]) AS category, unnest($5::text[]) AS type, unnest($6::int[]) AS schema_version,
					unnest($7::text[]) AS data, unnest($8::text[]) AS metadata, unnest($9::timestamptz[]) AS recorded_at,
					generate_subscripts($1::uuid[], 1) AS ord
			), ins AS (
				INSERT INTO events (event_id, stream_id, stream_version, category, type, schema_version, data, metadata, recorded_at)
				SELECT event_id, stream_id, stream_version, category, type, schema_version, data::json, metadata::jsonb, recorded_at
				FROM input ORDER BY ord
				RETURNING global_position, transaction_id
			), ob AS (
				INSERT INTO outbox (global_position) SELECT global_position FROM ins ORDER BY global_position
			)
			SELECT global_position, transaction_id::text FROM ins ORDER BY global_position`,
			w.eventIDs, w.eventStreams, w.eventVersions, w.eventCategories, w.eventTypes, w.eventSchemas,
			w.eventData, w.eventMeta, w.eventRecorded)
	}
	if len(w.claimScopes) > 0 {
		queue("claim", `INSERT INTO claims (scope, value, owner) SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::text[])`,
			w.claimScopes, w.claimValues, w.claimOwners)
	}
	if len(w.credSubjects) > 0 {
		queue("store credentials", `INSERT INTO credentials (subject, secret, updated_at)
			SELECT unnest($1::text[]), unnest($2::bytea[]), unnest($3::timestamptz[])
			ON CONFLICT (subject) DO UPDATE SET secret = excluded.secret, updated_at = excluded.updated_at`,
			w.credSubjects, w.credSecrets, w.credAt)
	}
	if len(w.keySubjects) > 0 {
		queue("store data keys", `INSERT INTO data_keys (subject, wrapped, created_at)
			SELECT unnest($1::text[]), unnest($2::bytea[]), unnest($3::timestamptz[])`, w.keySubjects, w.keyWrapped, w.keyAt)
	}
	if len(w.idemKeys) > 0 {
		queue("record idempotency keys", `INSERT INTO idempotency (key, fingerprint, status, response, created_at)
			SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::int[]), unnest($4::text[])::json, unnest($5::timestamptz[])`,
			w.idemKeys, w.idemFingerprints, w.idemStatuses, w.idemResponses, w.idemAt)
	}
	if len(w.traceSteps) > 0 {
		queueTraceSteps(b, w.traceSteps)
		stmts = append(stmts, "record trace steps")
	}
	// The commit ends the batch. A statement that fails makes Postgres
	// skip the rest, the commit with them: the group wrote nothing.
	b.Queue("commit")
	br := conn.SendBatch(ctx, b)
	err := func() error {
		// The events' statement sits after the streams' (and is read in
		// that place); the others are plain writes.
		k := 0
		for ; k < len(stmts) && (stmts[k] == "move streams" || stmts[k] == "create streams"); k++ {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("postgres: %s: %w", stmts[k], err)
			}
		}
		if hasEvents {
			if err := w.readEvents(br, outs); err != nil {
				return err
			}
		} else {
			for _, i := range w.reqs {
				outs[i] = groupOut{res: &eventstore.AppendResult{}}
			}
		}
		for ; k < len(stmts); k++ {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("postgres: %s: %w", stmts[k], err)
			}
		}
		tag, err := br.Exec()
		switch {
		case err != nil:
			return &commitUnknownError{err: err}
		case tag.String() != "COMMIT":
			return fmt.Errorf("postgres: commit: the transaction ended with %s", tag)
		}
		return nil
	}()
	if cerr := br.Close(); err == nil && cerr != nil {
		err = &commitUnknownError{err: cerr}
	}
	var pe *pgconn.PgError
	if err != nil && !errors.As(err, &pe) && conn.Conn().PgConn().TxStatus() != 'E' {
		// Not Postgres refusing a statement (which skips the commit) but
		// the connection failing, or a result that could not be read:
		// the commit may have been reached.
		var unknown *commitUnknownError
		if !errors.As(err, &unknown) {
			err = &commitUnknownError{err: err}
		}
	}
	return err
}

// readEvents reads the positions the events got, in the order they were
// sent, and builds each append's result as an append alone does.
func (w *groupWrite) readEvents(br pgx.BatchResults, outs []groupOut) error {
	rows, err := br.Query()
	if err != nil {
		return fmt.Errorf("postgres: insert events: %w", err)
	}
	positions := make([]eventstore.Position, 0, len(w.eventIDs))
	for rows.Next() {
		var pos eventstore.Position
		var tx string
		if err := rows.Scan(&pos.Global, &tx); err != nil {
			rows.Close()
			return fmt.Errorf("postgres: insert events: %w", err)
		}
		if pos.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
			rows.Close()
			return fmt.Errorf("postgres: transaction id %q: %w", tx, err)
		}
		positions = append(positions, pos)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: insert events: %w", err)
	}
	if len(positions) != len(w.eventIDs) {
		return fmt.Errorf("postgres: insert events: %d positions for %d events", len(positions), len(w.eventIDs))
	}
	k := 0
	for n, i := range w.reqs {
		res := &eventstore.AppendResult{}
		for _, sp := range w.plans[n] {
			for j, e := range sp.Events {
				res.Events = append(res.Events, eventstore.Event{
					ID: e.ID, StreamID: sp.StreamID, StreamVersion: sp.base + int64(j) + 1, Position: positions[k],
					Type: e.Type, SchemaVersion: e.SchemaVersion, Data: e.Data, Metadata: e.Metadata, RecordedAt: w.nows[n],
				})
				k++
			}
		}
		outs[i] = groupOut{res: res}
	}
	return nil
}
