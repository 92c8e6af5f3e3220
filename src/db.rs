//! Opening the database and applying migrations, for both backends.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr};

/// How many SQL statements a connection pool has run (for tests and the
/// benchmark: statements per request).
#[derive(Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Like `connect`, counting every statement the pool runs.
pub async fn connect_counted(url: &str, pool_size: u32) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    // Every connection is opened up front, not during the first burst of
    // traffic (PostgreSQL starts a backend per connection).
    let mut db = connect_sized(url, pool_size, pool_size).await?;
    let counter = StatementCounter::default();
    let inner = counter.0.clone();
    db.set_metric_callback(move |_| {
        inner.fetch_add(1, Ordering::Relaxed);
    });
    Ok((db, counter))
}

pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_sized(url, 10, 1).await
}

/// A small pool of its own for the event bus (the journal tailer, LISTEN,
/// replays, event snapshots), so requests' statement counts are theirs
/// alone. Opened in full up front: opening these connections during a burst
/// of changes tripled the fan-out delay of a freshly started server.
pub async fn connect_for_events(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_sized(url, 4, 4).await
}

async fn connect_sized(url: &str, max_connections: u32, min_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).connect_timeout(Duration::from_secs(10)).acquire_timeout(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        // SQLite allows one writer at a time; a single connection serialises
        // transactions instead of failing them with SQLITE_BUSY.
        options.max_connections(1).min_connections(1);
    } else {
        options.max_connections(max_connections).min_connections(min_connections.min(max_connections));
    }
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
            .await?;
    }
    Ok(db)
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}
