-- Benchmark volume (PostgreSQL): 2,000 customers, 200 technicians, 50,000
-- jobs: 20,000 INVOICED (past windows, invoices with labour and material
-- lines, half paid in full, a quarter partly), 20,000 PENDING, 10,000
-- SCHEDULED (the newest, windows over the coming week). 30,000 assignments
-- with their JOB schedule entries; one job.created log row per job.
-- :admin_hash is replaced by the benchmark before running.

INSERT INTO users (id, email, name, password_hash, role, active, created_at, updated_at) VALUES
  (md5('user-admin')::uuid, 'admin@bench.local', 'Bench Admin', ':admin_hash', 'ADMIN', true, now(), now()),
  (md5('user-dispatcher')::uuid, 'dispatcher@bench.local', 'Bench Dispatcher', ':admin_hash', 'DISPATCHER', true, now(), now());
INSERT INTO bootstrap (singleton, user_id, created_at) VALUES (1, md5('user-admin')::uuid, now());

-- Everyone around Bristol (51.4545, -2.5879): customers within about 6 km,
-- technicians' bases within about 12 km; every tenth customer has no location.
INSERT INTO customers (id, name, email, phone, address, latitude, longitude, created_at, updated_at)
SELECT md5('cust' || c)::uuid, 'Customer ' || c, 'customer' || c || '@example.com', '+44 20 7946 ' || lpad(c::text, 4, '0'),
       (c % 300 + 1) || ' Bench Street, Bristol',
       CASE WHEN c % 10 <> 0 THEN 51.4545 + ((c * 7919) % 1000 - 500) / 10000.0 END,
       CASE WHEN c % 10 <> 0 THEN -2.5879 + ((c * 104729) % 1000 - 500) / 6000.0 END,
       now() - interval '90 days' + c * interval '1 minute', now()
FROM generate_series(1, 2000) AS c;

INSERT INTO technicians (id, user_id, name, email, phone, skill_level, hourly_rate_cents, active,
                         base_latitude, base_longitude, created_at, updated_at)
SELECT md5('tech' || t)::uuid, NULL, 'Technician ' || t, 'tech' || t || '@example.com', NULL, 1 + t % 5, 4000 + (t % 20) * 100, true,
       51.4545 + ((t * 7919) % 1000 - 500) / 5000.0, -2.5879 + ((t * 104729) % 1000 - 500) / 3000.0,
       now() - interval '90 days' + t * interval '1 minute', now()
FROM generate_series(1, 200) AS t;

-- Assignment k (0..29999) → job, technician 1 + k % 200, slot k / 200 (3 h apart, 2 h long).
CREATE TEMP TABLE bench_assign AS
SELECT k,
       CASE WHEN k < 20000 THEN k + 1 ELSE 40001 + (k - 20000) END AS j,
       1 + k % 200 AS t,
       CASE WHEN k < 20000 THEN date_trunc('hour', now()) - interval '30 days' + (k / 200) * interval '3 hours'
            ELSE date_trunc('hour', now()) + interval '1 day' + ((k - 20000) / 200) * interval '3 hours' END AS starts_at
FROM generate_series(0, 29999) AS k;

-- Jobs: j <= 20000 invoiced, 20001..40000 pending, 40001..50000 scheduled.
INSERT INTO jobs (id, customer_id, title, description, status, priority, required_skill_level, notes,
                  started_at, completed_at, cancelled_at, created_at, updated_at)
SELECT md5('job' || g.j)::uuid, md5('cust' || (1 + g.j % 2000))::uuid, 'Job ' || g.j, 'Benchmark job number ' || g.j,
       CASE WHEN g.j <= 20000 THEN 'INVOICED' WHEN g.j <= 40000 THEN 'PENDING' ELSE 'SCHEDULED' END,
       (ARRAY['LOW', 'NORMAL', 'HIGH', 'URGENT'])[1 + g.j % 4], 1, NULL,
       CASE WHEN g.j <= 20000 THEN a.starts_at END, CASE WHEN g.j <= 20000 THEN a.starts_at + interval '2 hours' END, NULL,
       now() - interval '40 days' + g.j * interval '1 minute', now() - interval '40 days' + g.j * interval '1 minute'
FROM generate_series(1, 50000) AS g(j)
LEFT JOIN bench_assign a ON a.j = g.j;

INSERT INTO job_assignments (id, job_id, technician_id, starts_at, ends_at, live, created_at)
SELECT md5('assign' || k)::uuid, md5('job' || j)::uuid, md5('tech' || t)::uuid, starts_at, starts_at + interval '2 hours', k >= 20000, now()
FROM bench_assign;

INSERT INTO schedules (id, technician_id, kind, starts_at, ends_at, note, job_id, created_at)
SELECT md5('entry' || k)::uuid, md5('tech' || t)::uuid, 'JOB', starts_at, starts_at + interval '2 hours', 'Job ' || j,
       md5('job' || j)::uuid, now()
FROM bench_assign;

-- Invoices: labour 2 h at the technician's rate plus one 25.00 material line.
INSERT INTO invoices (id, number, job_id, customer_id, status, total_cents, amount_paid_cents, issued_at, paid_at)
SELECT md5('inv' || a.j)::uuid, 'INV-' || lpad(a.j::text, 6, '0'), md5('job' || a.j)::uuid, md5('cust' || (1 + a.j % 2000))::uuid,
       CASE WHEN a.j % 2 = 0 THEN 'PAID' WHEN a.j % 4 = 1 THEN 'PARTIALLY_PAID' ELSE 'ISSUED' END,
       2 * (4000 + (a.t % 20) * 100) + 2500,
       CASE WHEN a.j % 2 = 0 THEN 2 * (4000 + (a.t % 20) * 100) + 2500 WHEN a.j % 4 = 1 THEN 2500 ELSE 0 END,
       a.starts_at + interval '2 hours',
       CASE WHEN a.j % 2 = 0 THEN a.starts_at + interval '3 hours' END
FROM bench_assign a WHERE a.k < 20000;

INSERT INTO invoice_lines (id, invoice_id, position, kind, description, quantity_hundredths, unit_price_cents, amount_cents)
SELECT md5('line0-' || a.j)::uuid, md5('inv' || a.j)::uuid, 0, 'LABOR', 'Labour: Job ' || a.j, 200, 4000 + (a.t % 20) * 100, 2 * (4000 + (a.t % 20) * 100)
FROM bench_assign a WHERE a.k < 20000
UNION ALL
SELECT md5('line1-' || a.j)::uuid, md5('inv' || a.j)::uuid, 1, 'MATERIAL', 'Parts', 100, 2500, 2500
FROM bench_assign a WHERE a.k < 20000;

INSERT INTO payments (id, invoice_id, amount_cents, method, reference, idempotency_key, received_at, recorded_by)
SELECT md5('pay' || a.j)::uuid, md5('inv' || a.j)::uuid,
       CASE WHEN a.j % 2 = 0 THEN 2 * (4000 + (a.t % 20) * 100) + 2500 ELSE 2500 END,
       'CARD', NULL, NULL, a.starts_at + interval '3 hours', md5('user-admin')::uuid
FROM bench_assign a WHERE a.k < 20000 AND (a.j % 2 = 0 OR a.j % 4 = 1);

UPDATE counters SET value = 20000 WHERE name = 'invoice_number';

INSERT INTO logs (event, entity_type, entity_id, actor_id, data, created_at)
SELECT 'job.created', 'job', md5('job' || j)::uuid, md5('user-admin')::uuid, '{}'::jsonb, now() - interval '40 days' + j * interval '1 minute'
FROM generate_series(1, 50000) AS j;

ANALYZE;
