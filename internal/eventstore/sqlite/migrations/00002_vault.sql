-- +goose Up
-- What must not live in immutable events: unique claims (for example an
-- email's blind index), credentials, and the wrapped per-subject data keys
-- whose deletion erases a person's encrypted fields.
CREATE TABLE claims (
    scope TEXT NOT NULL,
    value TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (scope, value)
) WITHOUT ROWID;
CREATE INDEX claims_owner ON claims (owner);

CREATE TABLE credentials (
    subject    TEXT    PRIMARY KEY,
    secret     BLOB    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- An erased subject keeps its row as a tombstone (wrapped NULL), so it never
-- silently gets a new key and its old ciphertexts read as erased.
CREATE TABLE data_keys (
    subject    TEXT    PRIMARY KEY,
    wrapped    BLOB,
    created_at INTEGER NOT NULL,
    erased_at  INTEGER,
    CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL))
) WITHOUT ROWID;

-- +goose Down
DROP TABLE data_keys;
DROP TABLE credentials;
DROP TABLE claims;
