-- +goose Up
-- The store writes an outbox row in the transaction that appends its event,
-- and events are never deleted, so the reference holds by construction. As
-- a constraint it cost every append a query and a lock on the new event's
-- row (a write-ahead log record per event) to prove what cannot be false.
ALTER TABLE outbox DROP CONSTRAINT outbox_global_position_fkey;

-- +goose Down
ALTER TABLE outbox ADD CONSTRAINT outbox_global_position_fkey
    FOREIGN KEY (global_position) REFERENCES events (global_position);
