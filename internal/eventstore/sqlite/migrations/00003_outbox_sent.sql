-- +goose Up
-- Sent outbox rows are kept for a while (not deleted at once): after an
-- unclean stop the stream engine may have lost its last acknowledged
-- messages, and the relay re-publishes them from here.
ALTER TABLE outbox ADD COLUMN sent_at INTEGER;
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- +goose Down
DROP INDEX outbox_sent;
DROP INDEX outbox_unsent;
ALTER TABLE outbox DROP COLUMN sent_at;
