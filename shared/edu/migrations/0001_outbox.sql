-- Transactional outbox: a domain row and its event commit together; a relay publishes
-- committed rows to the event bus and marks them sent (at-least-once, consumers dedupe on id).
CREATE TABLE outbox (
    id            uuid PRIMARY KEY,
    event_type    text        NOT NULL,
    payload       jsonb       NOT NULL,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    attempts      integer     NOT NULL DEFAULT 0
);

-- The relay scans only what is still unpublished, oldest first.
CREATE INDEX outbox_unpublished_idx ON outbox (occurred_at) WHERE published_at IS NULL;
