-- +goose Up
-- What must not live in immutable events: unique claims (for example an
-- email's blind index), credentials, and the wrapped per-subject data keys
-- whose deletion erases a person's encrypted fields.
CREATE TABLE claims (
    scope text NOT NULL,
    value text NOT NULL,
    owner text NOT NULL,
    PRIMARY KEY (scope, value)
);
CREATE INDEX claims_owner ON claims (owner);

CREATE TABLE credentials (
    subject    text        PRIMARY KEY,
    secret     bytea       NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE data_keys (
    subject    text        PRIMARY KEY,
    wrapped    bytea       NOT NULL,
    created_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE data_keys;
DROP TABLE credentials;
DROP TABLE claims;
