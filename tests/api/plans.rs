//! Statements PostgreSQL must answer through a given index: a plan that
//! reads a technician's whole history still gives the right answer, only
//! slower every month, so no answer-level test would notice.

use chrono::{Duration, Utc};
use fieldforge::domain::schedules;
use sea_orm::{ConnectionTrait, DatabaseBackend, QueryTrait, Statement};

use crate::common::*;

/// A technician's week, with a year of history before it, is read through
/// the (technician, end) index: bounded by the window's start, not by the
/// past.
#[tokio::test]
async fn a_week_reads_through_the_end_index_not_the_history() {
    let Some((database, db)) = fresh_postgres().await else { return };
    fieldforge::db::migrate(&database.url, &db).await.expect("migrations apply");
    let technician = uuid::Uuid::new_v4();
    let setup = format!(
        "INSERT INTO technicians (id, name, skill_level, hourly_rate_cents, created_at, updated_at) \
         VALUES ('{technician}', 'Busy Technician', 3, 5000, now(), now()); \
         INSERT INTO schedules (id, technician_id, kind, starts_at, ends_at, created_at) \
         SELECT gen_random_uuid(), '{technician}', 'AVAILABLE', \
                date_trunc('hour', now()) - n * interval '1 day', \
                date_trunc('hour', now()) - n * interval '1 day' + interval '4 hours', now() \
         FROM generate_series(-3, 365) AS n; \
         ANALYZE schedules;"
    );
    db.execute_unprepared(&setup).await.expect("a year of history");
    let from = Utc::now();
    let week =
        schedules::entries_select(&[technician], from, from + Duration::days(7)).build(DatabaseBackend::Postgres);
    let explain = Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        format!("EXPLAIN (FORMAT JSON) {}", week.sql),
        week.values.clone().map(|v| v.0).unwrap_or_default(),
    );
    let plan = db.query_one_raw(explain).await.expect("explain").expect("a plan");
    let plan: serde_json::Value = plan.try_get("", "QUERY PLAN").expect("JSON plan");
    let text = plan.to_string();
    assert!(text.contains("schedules_technician_ends_idx"), "{text}");
    assert!(!text.contains("schedules_technician_idx\""), "{text}");
    // And the answer is the window's entries: today's (it ends within four
    // hours of the hour just begun) and the next three days'.
    let rows = db.query_all_raw(week).await.expect("the week");
    assert_eq!(rows.len(), 4);
}
