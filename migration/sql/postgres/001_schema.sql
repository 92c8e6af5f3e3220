-- FieldForge schema, PostgreSQL dialect. Money is BIGINT minor units (cents);
-- quantities are BIGINT hundredths. Every timestamp is TIMESTAMPTZ (UTC).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 320),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('ADMIN', 'DISPATCHER', 'TECHNICIAN')),
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_created_idx ON users (created_at DESC, id DESC);

-- One row, written by the anonymous first-admin registration: two racing
-- bootstraps collide on the primary key and exactly one wins.
CREATE TABLE bootstrap (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    user_id    UUID NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE technicians (
    id                UUID PRIMARY KEY,
    user_id           UUID UNIQUE REFERENCES users (id),
    name              TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email             TEXT CHECK (length(email) <= 320),
    phone             TEXT CHECK (length(phone) <= 50),
    skill_level       INTEGER NOT NULL CHECK (skill_level BETWEEN 1 AND 5),
    hourly_rate_cents BIGINT NOT NULL CHECK (hourly_rate_cents BETWEEN 0 AND 1000000),
    active            BOOLEAN NOT NULL DEFAULT TRUE,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX technicians_created_idx ON technicians (created_at DESC, id DESC);

CREATE TABLE customers (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email      TEXT CHECK (length(email) <= 320),
    phone      TEXT CHECK (length(phone) <= 50),
    address    TEXT CHECK (length(address) <= 1000),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX customers_created_idx ON customers (created_at DESC, id DESC);

CREATE TABLE jobs (
    id                   UUID PRIMARY KEY,
    customer_id          UUID NOT NULL REFERENCES customers (id),
    title                TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description          TEXT CHECK (length(description) <= 10000),
    status               TEXT NOT NULL CHECK (status IN ('PENDING', 'SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'INVOICED', 'CANCELLED')),
    priority             TEXT NOT NULL CHECK (priority IN ('LOW', 'NORMAL', 'HIGH', 'URGENT')),
    required_skill_level INTEGER NOT NULL CHECK (required_skill_level BETWEEN 1 AND 5),
    notes                TEXT CHECK (length(notes) <= 10000),
    started_at           TIMESTAMPTZ,
    completed_at         TIMESTAMPTZ,
    cancelled_at         TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    CHECK (status NOT IN ('IN_PROGRESS', 'COMPLETED', 'INVOICED') OR started_at IS NOT NULL),
    CHECK (status NOT IN ('COMPLETED', 'INVOICED') OR completed_at IS NOT NULL),
    CHECK ((status = 'CANCELLED') = (cancelled_at IS NOT NULL))
);
CREATE INDEX jobs_created_idx ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_customer_idx ON jobs (customer_id, created_at DESC, id DESC);
CREATE INDEX jobs_status_idx ON jobs (status, created_at DESC, id DESC);

-- One assignment per job. Unassign and cancel delete it; completion keeps it
-- (who did the work, and when) but it stops being live: the window no longer
-- blocks the technician's calendar. Only live assignments may not overlap.
CREATE TABLE job_assignments (
    id            UUID PRIMARY KEY,
    job_id        UUID NOT NULL UNIQUE REFERENCES jobs (id),
    technician_id UUID NOT NULL REFERENCES technicians (id),
    starts_at     TIMESTAMPTZ NOT NULL,
    ends_at       TIMESTAMPTZ NOT NULL,
    live          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL,
    CHECK (starts_at < ends_at),
    CONSTRAINT job_assignments_no_overlap EXCLUDE USING gist (
        technician_id WITH =,
        tstzrange(starts_at, ends_at, '[)') WITH &&
    ) WHERE (live)
);
CREATE INDEX job_assignments_technician_idx ON job_assignments (technician_id, starts_at);

CREATE TABLE schedules (
    id            UUID PRIMARY KEY,
    technician_id UUID NOT NULL REFERENCES technicians (id),
    kind          TEXT NOT NULL CHECK (kind IN ('AVAILABLE', 'UNAVAILABLE', 'JOB')),
    starts_at     TIMESTAMPTZ NOT NULL,
    ends_at       TIMESTAMPTZ NOT NULL,
    note          TEXT CHECK (length(note) <= 10000),
    job_id        UUID UNIQUE REFERENCES jobs (id),
    created_at    TIMESTAMPTZ NOT NULL,
    CHECK (starts_at < ends_at),
    CHECK ((kind = 'JOB') = (job_id IS NOT NULL))
);
CREATE INDEX schedules_technician_idx ON schedules (technician_id, starts_at);

-- Gap-free invoice numbers: the counter row is locked by the completing
-- transaction and rolls back with it.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL CHECK (value >= 0)
);
INSERT INTO counters (name, value) VALUES ('invoice_number', 0);

CREATE TABLE invoices (
    id                UUID PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    job_id            UUID NOT NULL UNIQUE REFERENCES jobs (id),
    customer_id       UUID NOT NULL REFERENCES customers (id),
    status            TEXT NOT NULL CHECK (status IN ('ISSUED', 'PARTIALLY_PAID', 'PAID')),
    total_cents       BIGINT NOT NULL CHECK (total_cents >= 0),
    amount_paid_cents BIGINT NOT NULL DEFAULT 0 CHECK (amount_paid_cents >= 0),
    issued_at         TIMESTAMPTZ NOT NULL,
    paid_at           TIMESTAMPTZ,
    CHECK (amount_paid_cents <= total_cents),
    CHECK ((status = 'PAID') = (paid_at IS NOT NULL))
);
CREATE INDEX invoices_issued_idx ON invoices (issued_at DESC, id DESC);
CREATE INDEX invoices_status_idx ON invoices (status, issued_at DESC, id DESC);

CREATE TABLE invoice_lines (
    id                  UUID PRIMARY KEY,
    invoice_id          UUID NOT NULL REFERENCES invoices (id),
    position            INTEGER NOT NULL CHECK (position >= 0),
    kind                TEXT NOT NULL CHECK (kind IN ('LABOR', 'MATERIAL')),
    description         TEXT NOT NULL CHECK (length(description) BETWEEN 1 AND 10000),
    quantity_hundredths BIGINT NOT NULL CHECK (quantity_hundredths >= 0),
    unit_price_cents    BIGINT NOT NULL CHECK (unit_price_cents >= 0),
    amount_cents        BIGINT NOT NULL CHECK (amount_cents >= 0),
    UNIQUE (invoice_id, position)
);

CREATE TABLE payments (
    id              UUID PRIMARY KEY,
    invoice_id      UUID NOT NULL REFERENCES invoices (id),
    amount_cents    BIGINT NOT NULL CHECK (amount_cents > 0 AND amount_cents <= 100000000000),
    method          TEXT NOT NULL CHECK (method IN ('CASH', 'CARD', 'CHECK', 'BANK_TRANSFER', 'OTHER')),
    reference       TEXT CHECK (length(reference) <= 200),
    idempotency_key TEXT UNIQUE CHECK (length(idempotency_key) <= 200),
    received_at     TIMESTAMPTZ NOT NULL,
    recorded_by     UUID REFERENCES users (id)
);
CREATE INDEX payments_invoice_idx ON payments (invoice_id, received_at);

-- The journal: one row per change, written in the change's transaction.
CREATE TABLE logs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event       TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   UUID NOT NULL,
    actor_id    UUID REFERENCES users (id),
    data        JSONB,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX logs_entity_idx ON logs (entity_type, entity_id, id DESC);
