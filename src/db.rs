//! Opening the database and applying migrations, for both backends.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr};

/// How many SQL statements a connection pool has run (for tests and the
/// benchmark: statements per request).
#[derive(Clone, Default)]
pub struct StatementCounter(prometheus_client::metrics::counter::Counter);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.get()
    }

    /// The same count, as a metric to register.
    pub fn counter(&self) -> prometheus_client::metrics::counter::Counter {
        self.0.clone()
    }
}

/// Like `connect`, counting every statement the pool runs, with a
/// PostgreSQL `statement_timeout` on every connection (zero: none).
pub async fn connect_counted(
    url: &str,
    pool_size: u32,
    statement_timeout: Duration,
) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    // Every connection is opened up front, not during the first burst of
    // traffic (PostgreSQL starts a backend per connection).
    let mut db = connect_sized(url, pool_size, pool_size, statement_timeout).await?;
    let counter = StatementCounter::default();
    let inner = counter.0.clone();
    db.set_metric_callback(move |_| {
        inner.inc();
    });
    Ok((db, counter))
}

/// A plain pool for the command-line tools (no statement timeout).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_sized(url, 10, 1, Duration::ZERO).await
}

/// A small pool of its own for the event bus (the journal tailer, LISTEN,
/// replays, event snapshots), so requests' statement counts are theirs
/// alone. Opened in full up front: opening these connections during a burst
/// of changes tripled the fan-out delay of a freshly started server.
pub async fn connect_for_events(url: &str, statement_timeout: Duration) -> Result<DatabaseConnection, DbErr> {
    connect_sized(url, 4, 4, statement_timeout).await
}

async fn connect_sized(
    url: &str,
    max_connections: u32,
    min_connections: u32,
    statement_timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    let options = pool_options(url, max_connections, min_connections, statement_timeout);
    if url.starts_with("sqlite:") { connect_sqlite(options).await } else { Database::connect(options).await }
}

fn pool_options(url: &str, max_connections: u32, min_connections: u32, statement_timeout: Duration) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    // JIT compiles a plan in about 25 ms: worth it for long analytics, never
    // for this API's short statements (it fired on suggestTechnicians' plan).
    let mut settings = vec![("jit", "off".to_owned())];
    if !statement_timeout.is_zero() {
        // A runaway statement is cancelled by PostgreSQL itself, whatever
        // the client does (the request timeout only drops the client side).
        settings.push(("statement_timeout", statement_timeout.as_millis().to_string()));
    }
    options.map_sqlx_postgres_opts(move |opts| opts.options(settings.iter().map(|(k, v)| (*k, v.as_str()))));
    options.sqlx_logging(false).connect_timeout(Duration::from_secs(10)).acquire_timeout(ACQUIRE_TIMEOUT);
    // sqlx pings a connection (a round trip to the server) every time it is
    // taken from the pool, on top of the ping it sends when the connection
    // is given back: with one statement per checkout that tripled the round
    // trips of every request. Only a connection idle long enough to have been
    // dropped by the server or a firewall is checked before use now; one
    // that breaks in use is still caught by the ping on release.
    options.test_before_acquire_if_idle_for(IDLE_BEFORE_CHECK);
    if url.starts_with("sqlite:") {
        // SQLite allows one writer at a time; a single connection serialises
        // transactions instead of failing them with SQLITE_BUSY.
        options.max_connections(1).min_connections(1);
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    } else {
        options.max_connections(max_connections).min_connections(min_connections.min(max_connections));
    }
    options
}

/// How long a request waits for a free connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a pooled connection may sit idle before it is checked again.
const IDLE_BEFORE_CHECK: Duration = Duration::from_secs(30);

/// Opening a new SQLite file switches it to WAL, which needs the file to
/// itself: when another process opens it at the same moment, SQLite answers
/// "database is locked" at once, without waiting. Such an open is retried
/// for up to 5 s.
async fn connect_sqlite(options: ConnectOptions) -> Result<DatabaseConnection, DbErr> {
    let mut attempts = 0;
    loop {
        match Database::connect(options.clone()).await {
            Err(err) if attempts < 50 && err.to_string().contains("database is locked") => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            connected => return connected,
        }
    }
}

/// The advisory lock key migrations run under ("FFMIGR" in ASCII).
const MIGRATION_LOCK: i64 = 0x4646_4D49_4752;

/// Applies pending migrations. On PostgreSQL they run under a session
/// advisory lock held on a connection of its own: processes started
/// together on an empty database take turns, and the later ones find the
/// work done. On SQLite they run in one IMMEDIATE transaction, which takes
/// the database's write lock first (the other process waits its turn).
pub async fn migrate(url: &str, db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = db.begin_with_options(options).await?;
        Migrator::up(&txn, None).await?;
        return txn.commit().await;
    }
    use sea_orm::sqlx::Connection;
    let to_db_err = |err: sea_orm::sqlx::Error| DbErr::Custom(format!("migration lock: {err}"));
    let mut lock = sea_orm::sqlx::postgres::PgConnection::connect(url).await.map_err(to_db_err)?;
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut lock)
        .await
        .map_err(to_db_err)?;
    let migrated = Migrator::up(db, None).await;
    // Closing the connection releases the lock even if the unlock fails.
    let _ = sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK).execute(&mut lock).await;
    let _ = lock.close().await;
    migrated
}

/// Whether the database answers (`/readyz`).
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(drop)
}

/// The pool's connections: (open, idle), for `/metrics`.
pub fn pool_state(db: &DatabaseConnection) -> (i64, i64) {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (i64::from(pool.size()), pool.num_idle() as i64)
        }
        sea_orm::DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (i64::from(pool.size()), pool.num_idle() as i64)
        }
        _ => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connections_idle_for_a_while_are_checked_before_use() {
        for url in ["postgres://localhost/fieldforge", "sqlite::memory:"] {
            let options = pool_options(url, 8, 8, Duration::ZERO);
            assert!(!options.get_test_before_acquire(), "{url}: no ping on every checkout");
            assert_eq!(options.get_test_before_acquire_if_idle_for(), Some(IDLE_BEFORE_CHECK), "{url}");
        }
    }
}
