CREATE VIEW technician_upcoming_jobs AS
SELECT a.job_id, a.technician_id, a.starts_at, a.ends_at
FROM job_assignments a
JOIN jobs j ON j.id = a.job_id
WHERE j.status IN ('SCHEDULED', 'IN_PROGRESS')
  AND a.ends_at > strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now');

CREATE VIEW job_financials AS
SELECT j.id AS job_id,
       COALESCE(SUM(CASE WHEN l.kind = 'LABOR' THEN l.quantity_hundredths END), 0) AS labor_hours_hundredths,
       COALESCE(SUM(CASE WHEN l.kind = 'LABOR' THEN l.amount_cents END), 0) AS labor_cost_cents,
       COALESCE(SUM(CASE WHEN l.kind = 'MATERIAL' THEN l.amount_cents END), 0) AS materials_cost_cents,
       i.total_cents AS invoice_total_cents,
       COALESCE(i.amount_paid_cents, 0) AS amount_paid_cents,
       COALESCE(i.total_cents - i.amount_paid_cents, 0) AS balance_due_cents
FROM jobs j
LEFT JOIN invoices i ON i.job_id = j.id
LEFT JOIN invoice_lines l ON l.invoice_id = i.id
GROUP BY j.id, i.id, i.total_cents, i.amount_paid_cents;
