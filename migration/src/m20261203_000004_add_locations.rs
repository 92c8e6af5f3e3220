crate::sql_migration!(
    "004_locations.sql",
    down: "DROP INDEX job_assignments_live_starts_idx; DROP INDEX schedules_unavailable_idx; \
           ALTER TABLE job_assignments DROP CONSTRAINT job_assignments_at_most_a_day; \
           ALTER TABLE customers DROP COLUMN latitude, DROP COLUMN longitude; \
           ALTER TABLE technicians DROP COLUMN base_latitude, DROP COLUMN base_longitude;",
    // SQLite drops one column per statement (and has no such constraint).
    "DROP INDEX job_assignments_live_starts_idx; DROP INDEX schedules_unavailable_idx; \
     ALTER TABLE customers DROP COLUMN longitude; ALTER TABLE customers DROP COLUMN latitude; \
     ALTER TABLE technicians DROP COLUMN base_longitude; ALTER TABLE technicians DROP COLUMN base_latitude;"
);
