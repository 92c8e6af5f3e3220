crate::sql_migration!("002_views.sql", down: "DROP VIEW IF EXISTS job_financials; DROP VIEW IF EXISTS technician_upcoming_jobs;");
