//! A request's reads on one held connection (`entities/connection.rs`,
//! from `entities/read_pool.rs`): they share it, it goes back to the read
//! pool unless a statement was cut off, and a request that writes never
//! holds one while it waits for another.

use std::time::Duration;

use fieldforge::entities::connection::RequestConnection;
use fieldforge::entities::read_pool::ReadPool;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::json;

use crate::common::fixtures::*;
use crate::common::*;

fn backend_pid() -> Statement {
    Statement::from_string(DatabaseBackend::Postgres, "SELECT pg_backend_pid() AS pid")
}

fn uncounted(pool: &sea_orm::DatabaseConnection) -> std::sync::Arc<ReadPool> {
    ReadPool::new(pool, std::sync::Arc::new(|| {}))
}

async fn pid(db: &impl ConnectionTrait) -> i32 {
    let row = db.query_one_raw(backend_pid()).await.expect("query").expect("a row");
    row.try_get::<i32>("", "pid").expect("pid")
}

#[tokio::test]
async fn a_held_connection_serves_every_read_until_released() {
    let Some((_database, pool)) = fresh_postgres().await else { return };
    let counted = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = counted.clone();
    let reads = ReadPool::new(
        &pool,
        std::sync::Arc::new(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }),
    );
    let connection = RequestConnection::held(&reads);
    assert!(!connection.is_holding().await, "nothing is taken before the first statement");
    let first = pid(&connection).await;
    assert!(connection.is_holding().await);
    assert_ne!(pid(&pool).await, first, "read connections are not the write pool's");
    for _ in 0..5 {
        assert_eq!(pid(&connection).await, first, "every read of the request on one backend");
    }
    assert_eq!(counted.load(std::sync::atomic::Ordering::Relaxed), 6, "each statement counted once");
    let clone = connection.clone();
    assert_eq!(pid(&clone).await, first, "clones (the loaders') share it");
    assert_eq!(reads.idle_count(), 0);
    connection.release().await;
    assert!(!connection.is_holding().await);
    assert!(!clone.is_holding().await, "released for every clone");
    assert_eq!(reads.idle_count(), 1, "given back to the read pool, not closed");
    // After release, reads still work, through the write pool.
    pid(&connection).await;
    assert!(!connection.is_holding().await, "nothing is taken again after release");
    assert_eq!(counted.load(std::sync::atomic::Ordering::Relaxed), 7, "pool statements are the pool's to count");
    // The next request gets the same backend back, without a new connection.
    let next = RequestConnection::held(&reads);
    assert_eq!(pid(&next).await, first, "the idle read connection is reused");
}

/// A statement cut off midway (a request timeout, a dropped loader) may
/// leave its reply on the wire: that connection is closed, never handed to
/// another statement. A failed statement's connection is closed too.
#[tokio::test]
async fn a_read_connection_cut_off_midway_is_closed_not_reused() {
    let Some((_database, pool)) = fresh_postgres().await else { return };
    let reads = uncounted(&pool);
    let alive = |backend: i32| {
        let pool = pool.clone();
        async move {
            let sql = format!("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = {backend}");
            let row = pool.query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql)).await.expect("query");
            row.expect("a row").try_get::<i32>("", "n").expect("n") == 1
        }
    };
    let sleep = || Statement::from_string(DatabaseBackend::Postgres, "SELECT pg_sleep(2)::text AS slept");

    // Cut off within one request: the next statement runs on a new backend.
    let connection = RequestConnection::held(&reads);
    let first = pid(&connection).await;
    let cut = tokio::time::timeout(Duration::from_millis(200), connection.query_one_raw(sleep())).await;
    assert!(cut.is_err(), "the sleep was cut off");
    let second = pid(&connection).await;
    assert_ne!(second, first, "a cut-off connection is replaced");

    // A failed statement: its connection is not kept either.
    let failed = connection
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, "SELECT * FROM no_such_table"))
        .await;
    assert!(failed.is_err());
    let third = pid(&connection).await;
    assert_ne!(third, second, "a failed statement's connection is replaced");

    // Cut off as the request ends: not given back.
    let cut = tokio::time::timeout(Duration::from_millis(200), connection.query_one_raw(sleep())).await;
    assert!(cut.is_err());
    drop(connection);
    assert_eq!(reads.idle_count(), 0, "nothing cut off goes back to the read pool");
    for backend in [first, second, third] {
        let mut closed = false;
        for _ in 0..100 {
            if !alive(backend).await {
                closed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(closed, "backend {backend} was closed");
    }
    // The read pool still serves: it opens a new connection.
    let fresh = RequestConnection::held(&reads);
    assert!(![first, second, third].contains(&pid(&fresh).await));
}

/// PostgreSQL restarted or ended a backend while its read connection sat
/// idle: the next read runs on a new connection, with no error to the
/// caller (reads change nothing, so running one again is safe).
#[tokio::test]
async fn a_read_connection_ended_while_idle_is_replaced_without_an_error() {
    let Some((_database, pool)) = fresh_postgres().await else { return };
    let reads = uncounted(&pool);
    let first = pid(&RequestConnection::held(&reads)).await;
    assert_eq!(reads.idle_count(), 1);
    let end = format!("SELECT pg_terminate_backend({first})::text AS ended");
    pool.query_one_raw(Statement::from_string(DatabaseBackend::Postgres, end)).await.expect("terminate");
    let gone = format!("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = {first}");
    for _ in 0..100 {
        let row = pool.query_one_raw(Statement::from_string(DatabaseBackend::Postgres, gone.clone())).await;
        if row.expect("query").expect("a row").try_get::<i32>("", "n").expect("n") == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connection = RequestConnection::held(&reads);
    let second = pid(&connection).await;
    assert_ne!(second, first, "read on a new backend");
    drop(connection);
    assert_eq!(reads.idle_count(), 1, "the new connection is kept");
}

#[tokio::test]
async fn on_sqlite_every_statement_goes_to_the_pool() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let pool = database.connect().await;
    let connection = RequestConnection::held(&uncounted(&pool));
    let row = connection
        .query_one_raw(Statement::from_string(DatabaseBackend::Sqlite, "SELECT 1 AS one"))
        .await
        .expect("query");
    assert!(row.is_some());
    assert!(!connection.is_holding().await, "SQLite's single connection is never held by one request");
}

each_backend! {
    /// With two connections for writes (and two for reads), many requests
    /// at once that read and write (also in one batch) all finish without
    /// an error: none waits on a connection it holds itself. (When reads and
    /// writes shared one pool, this deadlocked until the pool's 30 s acquire
    /// timeout failed them.)
    #[tokio::test]
    async fn reads_and_writes_at_once_on_a_small_pool_all_finish(backend) {
        let app = TestApp::spawn_with(backend, |settings| settings.db_pool_size = 2).await;
        let office = Office::open(&app).await;
        let customer = create_customer(&app, &office.dispatcher, "Busy Customer").await;
        let create = "mutation($c: ID!, $t: String!) { createJob(input: { customerId: $c, title: $t, requiredSkillLevel: 1 }) { id customer { name } } }";
        let board = "{ jobs(first: 20) { nodes { id title customer { name } } } }";
        let requests = (0..24).map(|n| {
            let app = &app;
            let token = office.dispatcher.clone();
            let customer = customer.clone();
            async move {
                match n % 3 {
                    0 => app.gql(Some(&token), create, json!({ "c": customer, "t": format!("Job {n}") })).await,
                    1 => app.gql(Some(&token), board, json!({})).await,
                    _ => {
                        let batch = json!([
                            { "query": board },
                            { "query": create, "variables": { "c": customer, "t": format!("Batched {n}") } },
                        ]);
                        let response = app
                            .http
                            .post(app.url("/graphql"))
                            .bearer_auth(&token)
                            .json(&batch)
                            .send()
                            .await
                            .expect("sent");
                        response.json().await.expect("JSON")
                    }
                }
            }
        });
        let answers = tokio::time::timeout(Duration::from_secs(25), futures_util::future::join_all(requests))
            .await
            .expect("every request finishes (no request waits on a connection it holds)");
        for answer in &answers {
            let parts = answer.as_array().cloned().unwrap_or_else(|| vec![answer.clone()]);
            for part in parts {
                assert!(part.get("errors").is_none(), "{backend:?}: {part}");
            }
        }
        let jobs = app.gql(Some(&office.dispatcher), "{ jobs(first: 100) { totalCount } }", json!({})).await;
        assert_eq!(data(&jobs, "jobs")["totalCount"], 16, "{backend:?}: 8 created alone and 8 in batches");
        app.stop().await;
    }
}
