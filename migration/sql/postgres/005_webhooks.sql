-- Webhooks: admins' receivers of the journal's events. `journal_position`
-- is how far the journal has been fanned out into deliveries for this
-- webhook (rows after it get one delivery each, rows up to it already did).
CREATE TABLE webhooks (
    id               UUID PRIMARY KEY,
    url              TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2000 AND (url LIKE 'http://%' OR url LIKE 'https://%')),
    events           JSONB NOT NULL CHECK (jsonb_typeof(events) = 'array' AND jsonb_array_length(events) > 0),
    secret           TEXT NOT NULL CHECK (length(secret) >= 32),
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    description      TEXT CHECK (description IS NULL OR length(description) <= 10000),
    journal_position BIGINT NOT NULL CHECK (journal_position >= 0),
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhooks_created_idx ON webhooks (created_at DESC, id DESC);

-- One row per (webhook, journal row), or per ping. `seq` orders a
-- webhook's deliveries (the journal's order); `lease_token`/`lease_until`
-- mark an attempt in flight in some process, so no other process makes it,
-- and a process that dies mid-attempt leaves a lease that simply expires.
CREATE TABLE webhook_deliveries (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               UUID NOT NULL UNIQUE,
    webhook_id       UUID NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    journal_id       BIGINT,
    event            TEXT NOT NULL,
    entity_type      TEXT NOT NULL,
    entity_id        UUID NOT NULL,
    actor_id         UUID,
    data             JSONB,
    occurred_at      TIMESTAMPTZ NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED', 'DEAD')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_status_code INTEGER,
    last_error       TEXT,
    next_attempt_at  TIMESTAMPTZ,
    delivered_at     TIMESTAMPTZ,
    lease_token      UUID,
    lease_until      TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    CHECK (status <> 'SUCCEEDED' OR delivered_at IS NOT NULL)
);
-- Exactly one delivery per journal row and webhook, whoever fans out.
CREATE UNIQUE INDEX webhook_deliveries_journal_key ON webhook_deliveries (webhook_id, journal_id) WHERE journal_id IS NOT NULL;
-- The worker's query: what is due, and what holds an entity back.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, seq) WHERE status IN ('PENDING', 'FAILED');
CREATE INDEX webhook_deliveries_entity_idx ON webhook_deliveries (webhook_id, entity_type, entity_id, seq) WHERE status IN ('PENDING', 'FAILED');
-- A webhook's deliveries, newest first.
CREATE INDEX webhook_deliveries_list_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
