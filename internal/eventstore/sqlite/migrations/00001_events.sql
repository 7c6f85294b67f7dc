-- +goose Up
-- Events are the record of truth. global_position is the rowid: the store has
-- one writer, so positions commit in order and readers never see a gap fill.
CREATE TABLE events (
    global_position INTEGER PRIMARY KEY,
    event_id        TEXT    NOT NULL UNIQUE,
    stream_id       TEXT    NOT NULL,
    stream_version  INTEGER NOT NULL CHECK (stream_version >= 1),
    category        TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL CHECK (schema_version >= 1),
    data            TEXT    NOT NULL CHECK (json_valid(data)),
    metadata        TEXT    NOT NULL CHECK (json_valid(metadata)),
    recorded_at     INTEGER NOT NULL, -- unix microseconds, UTC
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_category ON events (category, global_position);

-- SQLite has no roles; triggers give events the immutability that the
-- application role's grants give them on Postgres.
-- +goose StatementBegin
CREATE TRIGGER events_immutable_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER events_immutable_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable'); END;
-- +goose StatementEnd

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    global_position INTEGER NOT NULL REFERENCES events (global_position)
);

CREATE TABLE idempotency (
    key         TEXT    PRIMARY KEY,
    fingerprint TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    response    TEXT,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE trace_steps (
    id       INTEGER PRIMARY KEY,
    trace_id TEXT    NOT NULL,
    step     TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    detail   TEXT    NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX trace_steps_trace ON trace_steps (trace_id, id);

-- +goose Down
DROP TABLE trace_steps;
DROP TABLE idempotency;
DROP TABLE outbox;
DROP TABLE events;
