crate::sql_migration!(
    "001_schema.sql",
    down: "DROP TABLE IF EXISTS logs; DROP TABLE IF EXISTS payments; \
           DROP TABLE IF EXISTS invoice_lines; DROP TABLE IF EXISTS invoices; \
           DROP TABLE IF EXISTS counters; DROP TABLE IF EXISTS schedules; \
           DROP TABLE IF EXISTS job_assignments; DROP TABLE IF EXISTS jobs; \
           DROP TABLE IF EXISTS customers; DROP TABLE IF EXISTS technicians; \
           DROP TABLE IF EXISTS bootstrap; DROP TABLE IF EXISTS users;"
);
