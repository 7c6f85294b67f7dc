-- +goose Up
-- streams holds each stream's version: appends lock its row, so writers to
-- one stream queue there instead of racing on the events table.
CREATE TABLE streams (
    stream_id text   PRIMARY KEY,
    category  text   NOT NULL,
    version   bigint NOT NULL CHECK (version >= 1)
);

-- transaction_id records the writing transaction. Readers of the global log
-- order by (transaction_id, global_position) and read only below the oldest
-- transaction still running, so an event that commits late is never skipped.
CREATE TABLE events (
    global_position bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid        NOT NULL UNIQUE,
    stream_id       text        NOT NULL,
    stream_version  bigint      NOT NULL CHECK (stream_version >= 1),
    category        text        NOT NULL,
    type            text        NOT NULL,
    schema_version  integer     NOT NULL CHECK (schema_version >= 1),
    data            json        NOT NULL, -- json, not jsonb: payloads round-trip byte for byte
    metadata        jsonb       NOT NULL,
    recorded_at     timestamptz NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_log ON events (transaction_id, global_position);
CREATE INDEX events_category ON events (category, transaction_id, global_position);

CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    global_position bigint NOT NULL REFERENCES events (global_position)
);

CREATE TABLE idempotency (
    key         text        PRIMARY KEY,
    fingerprint text        NOT NULL,
    status      integer     NOT NULL,
    response    json,
    created_at  timestamptz NOT NULL
);

CREATE TABLE trace_steps (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trace_id text        NOT NULL,
    step     text        NOT NULL,
    status   text        NOT NULL,
    detail   text        NOT NULL,
    at       timestamptz NOT NULL
);
CREATE INDEX trace_steps_trace ON trace_steps (trace_id, id);

-- +goose Down
DROP TABLE trace_steps;
DROP TABLE idempotency;
DROP TABLE outbox;
DROP TABLE events;
DROP TABLE streams;
