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

-- An erased subject keeps its row as a tombstone (wrapped NULL), so it never
-- silently gets a new key and its old ciphertexts read as erased.
CREATE TABLE data_keys (
    subject    text        PRIMARY KEY,
    wrapped    bytea,
    created_at timestamptz NOT NULL,
    erased_at  timestamptz,
    CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL))
);

-- +goose Down
DROP TABLE data_keys;
DROP TABLE credentials;
DROP TABLE claims;
