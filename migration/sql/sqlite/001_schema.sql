-- FieldForge schema, SQLite dialect (BLOBs are 16-byte BLOBs, timestamps RFC 3339 TEXT in UTC). Money is BIGINT minor units (cents);
-- quantities are BIGINT hundredths. Every timestamp is TEXT (UTC).
CREATE TABLE users (
    id            BLOB PRIMARY KEY,
    email         TEXT NOT NULL CHECK (email = lower(trim(email)) AND length(email) BETWEEN 3 AND 320),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('ADMIN', 'DISPATCHER', 'TECHNICIAN')),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_created_idx ON users (created_at DESC, id DESC);

-- One row, written by the anonymous first-admin registration: two racing
-- bootstraps collide on the primary key and exactly one wins.
CREATE TABLE bootstrap (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    user_id    BLOB NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL
);

CREATE TABLE technicians (
    id                BLOB PRIMARY KEY,
    user_id           BLOB UNIQUE REFERENCES users (id),
    name              TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email             TEXT CHECK (length(email) <= 320),
    phone             TEXT CHECK (length(phone) <= 50),
    skill_level       INTEGER NOT NULL CHECK (skill_level BETWEEN 1 AND 5),
    hourly_rate_cents BIGINT NOT NULL CHECK (hourly_rate_cents BETWEEN 0 AND 1000000),
    active            INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX technicians_created_idx ON technicians (created_at DESC, id DESC);

CREATE TABLE customers (
    id         BLOB PRIMARY KEY,
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email      TEXT CHECK (length(email) <= 320),
    phone      TEXT CHECK (length(phone) <= 50),
    address    TEXT CHECK (length(address) <= 1000),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX customers_created_idx ON customers (created_at DESC, id DESC);

CREATE TABLE jobs (
    id                   BLOB PRIMARY KEY,
    customer_id          BLOB NOT NULL REFERENCES customers (id),
    title                TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description          TEXT CHECK (length(description) <= 10000),
    status               TEXT NOT NULL CHECK (status IN ('PENDING', 'SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'INVOICED', 'CANCELLED')),
    priority             TEXT NOT NULL CHECK (priority IN ('LOW', 'NORMAL', 'HIGH', 'URGENT')),
    required_skill_level INTEGER NOT NULL CHECK (required_skill_level BETWEEN 1 AND 5),
    notes                TEXT CHECK (length(notes) <= 10000),
    started_at           TEXT,
    completed_at         TEXT,
    cancelled_at         TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
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
    id            BLOB PRIMARY KEY,
    job_id        BLOB NOT NULL UNIQUE REFERENCES jobs (id),
    technician_id BLOB NOT NULL REFERENCES technicians (id),
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL,
    live          INTEGER NOT NULL DEFAULT 1 CHECK (live IN (0, 1)),
    created_at    TEXT NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX job_assignments_technician_idx ON job_assignments (technician_id, starts_at);

-- SQLite has no exclusion constraints: these triggers refuse an assignment
-- whose half-open window overlaps another of the same technician. Timestamps
-- are canonical RFC 3339 UTC text, so text order is time order.
CREATE TRIGGER job_assignments_no_overlap_insert
BEFORE INSERT ON job_assignments
WHEN NEW.live = 1 AND EXISTS (
    SELECT 1 FROM job_assignments a
    WHERE a.technician_id = NEW.technician_id
      AND a.live = 1
      AND a.starts_at < NEW.ends_at
      AND NEW.starts_at < a.ends_at
)
BEGIN
    SELECT RAISE(ABORT, 'job_assignments_no_overlap');
END;

CREATE TRIGGER job_assignments_no_overlap_update
BEFORE UPDATE OF technician_id, starts_at, ends_at, live ON job_assignments
WHEN NEW.live = 1 AND EXISTS (
    SELECT 1 FROM job_assignments a
    WHERE a.id <> NEW.id
      AND a.technician_id = NEW.technician_id
      AND a.live = 1
      AND a.starts_at < NEW.ends_at
      AND NEW.starts_at < a.ends_at
)
BEGIN
    SELECT RAISE(ABORT, 'job_assignments_no_overlap');
END;

CREATE TABLE schedules (
    id            BLOB PRIMARY KEY,
    technician_id BLOB NOT NULL REFERENCES technicians (id),
    kind          TEXT NOT NULL CHECK (kind IN ('AVAILABLE', 'UNAVAILABLE', 'JOB')),
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL,
    note          TEXT CHECK (length(note) <= 10000),
    job_id        BLOB UNIQUE REFERENCES jobs (id),
    created_at    TEXT NOT NULL,
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
    id                BLOB PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    job_id            BLOB NOT NULL UNIQUE REFERENCES jobs (id),
    customer_id       BLOB NOT NULL REFERENCES customers (id),
    status            TEXT NOT NULL CHECK (status IN ('ISSUED', 'PARTIALLY_PAID', 'PAID')),
    total_cents       BIGINT NOT NULL CHECK (total_cents >= 0),
    amount_paid_cents BIGINT NOT NULL DEFAULT 0 CHECK (amount_paid_cents >= 0),
    issued_at         TEXT NOT NULL,
    paid_at           TEXT,
    CHECK (amount_paid_cents <= total_cents),
    CHECK ((status = 'PAID') = (paid_at IS NOT NULL))
);
CREATE INDEX invoices_issued_idx ON invoices (issued_at DESC, id DESC);
CREATE INDEX invoices_status_idx ON invoices (status, issued_at DESC, id DESC);

CREATE TABLE invoice_lines (
    id                  BLOB PRIMARY KEY,
    invoice_id          BLOB NOT NULL REFERENCES invoices (id),
    position            INTEGER NOT NULL CHECK (position >= 0),
    kind                TEXT NOT NULL CHECK (kind IN ('LABOR', 'MATERIAL')),
    description         TEXT NOT NULL CHECK (length(description) BETWEEN 1 AND 10000),
    quantity_hundredths BIGINT NOT NULL CHECK (quantity_hundredths >= 0),
    unit_price_cents    BIGINT NOT NULL CHECK (unit_price_cents >= 0),
    amount_cents        BIGINT NOT NULL CHECK (amount_cents >= 0),
    UNIQUE (invoice_id, position)
);

CREATE TABLE payments (
    id              BLOB PRIMARY KEY,
    invoice_id      BLOB NOT NULL REFERENCES invoices (id),
    amount_cents    BIGINT NOT NULL CHECK (amount_cents > 0 AND amount_cents <= 100000000000),
    method          TEXT NOT NULL CHECK (method IN ('CASH', 'CARD', 'CHECK', 'BANK_TRANSFER', 'OTHER')),
    reference       TEXT CHECK (length(reference) <= 200),
    idempotency_key TEXT UNIQUE CHECK (length(idempotency_key) <= 200),
    received_at     TEXT NOT NULL,
    recorded_by     BLOB REFERENCES users (id)
);
CREATE INDEX payments_invoice_idx ON payments (invoice_id, received_at);

-- The journal: one row per change, written in the change's transaction.
CREATE TABLE logs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event       TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   BLOB NOT NULL,
    actor_id    BLOB REFERENCES users (id),
    data        TEXT CHECK (data IS NULL OR json_valid(data)),
    created_at  TEXT NOT NULL
);
CREATE INDEX logs_entity_idx ON logs (entity_type, entity_id, id DESC);
