-- Webhooks: admins' receivers of the journal's events. `journal_position`
-- is how far the journal has been fanned out into deliveries for this
-- webhook (rows after it get one delivery each, rows up to it already did).
CREATE TABLE webhooks (
    id               BLOB PRIMARY KEY,
    url              TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2000 AND (url LIKE 'http://%' OR url LIKE 'https://%')),
    events           TEXT NOT NULL CHECK (json_valid(events) AND json_type(events) = 'array' AND json_array_length(events) > 0),
    secret           TEXT NOT NULL CHECK (length(secret) >= 32),
    active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    description      TEXT CHECK (description IS NULL OR length(description) <= 10000),
    journal_position INTEGER NOT NULL CHECK (journal_position >= 0),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX webhooks_created_idx ON webhooks (created_at DESC, id DESC);

-- One row per (webhook, journal row), or per ping; see the PostgreSQL
-- script for the columns' meaning.
CREATE TABLE webhook_deliveries (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               BLOB NOT NULL UNIQUE,
    webhook_id       BLOB NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    journal_id       INTEGER,
    event            TEXT NOT NULL,
    entity_type      TEXT NOT NULL,
    entity_id        BLOB NOT NULL,
    actor_id         BLOB,
    data             TEXT CHECK (data IS NULL OR json_valid(data)),
    occurred_at      TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED', 'DEAD')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_status_code INTEGER,
    last_error       TEXT,
    next_attempt_at  TEXT,
    delivered_at     TEXT,
    lease_token      BLOB,
    lease_until      TEXT,
    created_at       TEXT NOT NULL,
    CHECK (status <> 'SUCCEEDED' OR delivered_at IS NOT NULL)
);
CREATE UNIQUE INDEX webhook_deliveries_journal_key ON webhook_deliveries (webhook_id, journal_id) WHERE journal_id IS NOT NULL;
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, seq) WHERE status IN ('PENDING', 'FAILED');
CREATE INDEX webhook_deliveries_entity_idx ON webhook_deliveries (webhook_id, entity_type, entity_id, seq) WHERE status IN ('PENDING', 'FAILED');
CREATE INDEX webhook_deliveries_list_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
