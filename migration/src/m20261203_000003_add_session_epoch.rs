crate::sql_migration!("003_sessions.sql", down: "ALTER TABLE users DROP COLUMN session_epoch;");
