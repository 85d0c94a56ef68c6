-- Teachers' outbound webhooks and their delivery log.

CREATE TABLE webhooks (
    id                    uuid PRIMARY KEY,
    teacher_id            text        NOT NULL,
    url                   text        NOT NULL CHECK (length(url) <= 2000),
    events                text[]      NOT NULL,
    -- HMAC key of the signatures: needed in clear to sign, shown to the teacher once.
    signing_secret        text        NOT NULL,
    status                text        NOT NULL DEFAULT 'active'
                                      CHECK (status IN ('active', 'disabled')),
    disabled_reason       text,
    consecutive_failures  integer     NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_teacher_idx ON webhooks (teacher_id, created_at DESC);

CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    webhook_id       uuid        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id         text        NOT NULL,
    event_type       text        NOT NULL,
    payload          jsonb       NOT NULL,
    manual           boolean     NOT NULL DEFAULT false,
    status           text        NOT NULL DEFAULT 'pending'
                                 CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_status      integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- One automatic delivery per webhook and event (the fan-out is idempotent); manual
-- redeliveries are extra rows.
CREATE UNIQUE INDEX webhook_deliveries_event_uniq ON webhook_deliveries (webhook_id, event_id)
    WHERE NOT manual;
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, created_at DESC, id);

CREATE TABLE webhook_attempts (
    delivery_id  uuid        NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      integer     NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    status_code  integer,
    error        text,
    duration_ms  integer     NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
