crate::sql_migration!("006_schedule_ends.sql", down: "DROP INDEX schedules_technician_ends_idx;");
