//! The PostgreSQL connections HTTP requests read through, kept apart from
//! the pool that writes use.
//!
//! sqlx sends a ping (a round trip to PostgreSQL) and spawns a task every
//! time a pooled connection is given back, and that cannot be turned off:
//! it is how sqlx finds a connection a cancelled statement left mid-reply.
//! A read request is one or two short statements, so that ping was a third
//! of its round trips. Here a connection goes back with no ping when its
//! last statement finished cleanly; one whose statement was cancelled
//! midway or failed is closed instead, so no one reads another statement's
//! leftovers.
//!
//! Separate from the write pool, so that a request holding a read
//! connection can never starve a transaction waiting for one: reads get as
//! many connections as the write pool (`--db-pool-size`), opened on first
//! use, and wait for one as long as a write would.
//!
//! No ping before use either: a read whose connection PostgreSQL closed
//! while it sat idle runs once more on a new one (`guarded`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sea_query::Values;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgQueryResult, PgRow, Postgres};
use sea_orm::sqlx::{self, ConnectOptions};
use sea_orm::{DatabaseBackend, DatabaseConnection, Statement};

use super::connection::OnStatement;
use sea_query_sqlx::SqlxValues;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The statement as SeaORM would send it: prepared (and cached per
/// connection), its values bound.
fn query(statement: &Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = statement.values.clone().unwrap_or_else(|| Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(statement.sql.as_str()), SqlxValues(values))
}

#[derive(Clone, Copy)]
enum Want {
    All,
    Optional,
    Done,
}

enum Answer {
    All(Vec<PgRow>),
    Optional(Option<PgRow>),
    Done(PgQueryResult),
}

async fn run(connection: &mut PgConnection, statement: &Statement, want: Want) -> Result<Answer, sqlx::Error> {
    let query = query(statement);
    match want {
        Want::All => query.fetch_all(connection).await.map(Answer::All),
        Want::Optional => query.fetch_optional(connection).await.map(Answer::Optional),
        Want::Done => query.execute(connection).await.map(Answer::Done),
    }
}

/// Whether the connection itself is gone: the socket failed, or PostgreSQL
/// ended the backend (class 57P: operator intervention).
fn connection_lost(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(err) => err.code().is_some_and(|code| code.starts_with("57P")),
        _ => false,
    }
}

/// Older connections are closed when given back, so a backend's caches do
/// not grow for the life of the server (sqlx's default lifetime).
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Where a request's reads go: on PostgreSQL, connections of their own; on
/// SQLite (one connection, one writer), the pool.
pub struct ReadPool {
    pool: DatabaseConnection,
    own: Option<OwnConnections>,
    /// Counts a statement run on a read connection (the write pool counts
    /// its own through SeaORM's metric callback).
    pub(super) on_statement: OnStatement,
}

struct OwnConnections {
    options: Arc<PgConnectOptions>,
    idle: Mutex<Vec<Idle>>,
    permits: Arc<Semaphore>,
    acquire_timeout: Duration,
}

struct Idle {
    connection: PgConnection,
    opened: Instant,
}

impl ReadPool {
    /// As many read connections as the write pool has, opened as requests
    /// need them, with its settings (statement timeout, no JIT, how long to
    /// wait for a free one).
    pub fn new(pool: &DatabaseConnection, on_statement: OnStatement) -> Arc<ReadPool> {
        let own = (pool.get_database_backend() == DatabaseBackend::Postgres).then(|| {
            let writes = pool.get_postgres_connection_pool();
            OwnConnections {
                options: writes.connect_options(),
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(writes.options().get_max_connections().max(1) as usize)),
                acquire_timeout: writes.options().get_acquire_timeout(),
            }
        });
        Arc::new(ReadPool { pool: pool.clone(), own, on_statement })
    }

    /// The write pool (and SQLite's only pool).
    pub fn pool(&self) -> &DatabaseConnection {
        &self.pool
    }

    /// Whether reads have connections of their own (PostgreSQL).
    pub fn has_own_connections(&self) -> bool {
        self.own.is_some()
    }

    /// Connections waiting for a request right now (tests).
    pub fn idle_count(&self) -> usize {
        self.own.as_ref().map_or(0, |own| own.idle.lock().expect("idle list").len())
    }

    /// One of the read connections, waiting (up to the acquire timeout) while
    /// all are taken. `None` on SQLite.
    pub async fn acquire(self: &Arc<Self>) -> Option<Result<ReadConnection, sqlx::Error>> {
        let own = self.own.as_ref()?;
        Some(own.acquire(self.clone()).await)
    }
}

impl OwnConnections {
    async fn acquire(&self, home: Arc<ReadPool>) -> Result<ReadConnection, sqlx::Error> {
        let permit = tokio::time::timeout(self.acquire_timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle.lock().expect("idle list").pop();
        if let Some(Idle { connection, opened }) = idle {
            return Ok(ReadConnection::new(connection, opened, permit, home));
        }
        let connection = self.options.connect().await?;
        Ok(ReadConnection::new(connection, Instant::now(), permit, home))
    }
}

/// A read connection taken by one request; given back when dropped.
pub struct ReadConnection {
    connection: Option<PgConnection>,
    opened: Instant,
    /// False from the start of a statement until it has answered in full:
    /// still false when dropped means the statement was cancelled midway
    /// (or failed), and the connection is closed rather than given back.
    clean: bool,
    home: Arc<ReadPool>,
    // Released after `Drop` has put the connection back, so that whoever
    // the permit wakes finds it.
    _permit: OwnedSemaphorePermit,
}

impl ReadConnection {
    fn new(connection: PgConnection, opened: Instant, permit: OwnedSemaphorePermit, home: Arc<ReadPool>) -> Self {
        ReadConnection { connection: Some(connection), opened, clean: true, home, _permit: permit }
    }

    pub async fn fetch_all(&mut self, statement: &Statement) -> Result<Vec<PgRow>, sqlx::Error> {
        match self.guarded(statement, Want::All).await? {
            Answer::All(rows) => Ok(rows),
            _ => unreachable!("asked for all rows"),
        }
    }

    pub async fn fetch_optional(&mut self, statement: &Statement) -> Result<Option<PgRow>, sqlx::Error> {
        match self.guarded(statement, Want::Optional).await? {
            Answer::Optional(row) => Ok(row),
            _ => unreachable!("asked for one row"),
        }
    }

    pub async fn execute(&mut self, statement: &Statement) -> Result<PgQueryResult, sqlx::Error> {
        match self.guarded(statement, Want::Done).await? {
            Answer::Done(done) => Ok(done),
            _ => unreachable!("asked for the outcome"),
        }
    }

    /// Runs one read, clean only once it has answered in full. A read whose
    /// connection PostgreSQL had closed (a restart, a failover, an ended
    /// backend) while it sat idle runs once more on a new connection: reads
    /// change nothing, and the caller should not see an error for that.
    async fn guarded(&mut self, statement: &Statement, want: Want) -> Result<Answer, sqlx::Error> {
        self.clean = false;
        let connection = self.connection.as_mut().expect("a read connection until dropped");
        let mut done = run(connection, statement, want).await;
        if done.as_ref().is_err_and(connection_lost)
            && let Some(own) = self.home.own.as_ref()
        {
            done = match own.options.connect().await {
                Ok(fresh) => {
                    self.opened = Instant::now();
                    run(self.connection.insert(fresh), statement, want).await
                }
                Err(err) => Err(err),
            };
        }
        self.clean = done.is_ok();
        done
    }

    /// False while a statement is under way, or after one was cancelled
    /// midway or failed.
    pub fn is_clean(&self) -> bool {
        self.clean
    }
}

impl Drop for ReadConnection {
    fn drop(&mut self) {
        let (Some(connection), Some(own)) = (self.connection.take(), self.home.own.as_ref()) else { return };
        if self.clean && self.opened.elapsed() < MAX_LIFETIME {
            let idle = Idle { connection, opened: self.opened };
            own.idle.lock().expect("idle list").push(idle);
        }
        // Otherwise dropped here: its socket closes and PostgreSQL ends the
        // backend.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_reads_go_to_the_pool() {
        let pool = sea_orm::Database::connect("sqlite::memory:").await.expect("sqlite");
        let reads = ReadPool::new(&pool, Arc::new(|| {}));
        assert!(!reads.has_own_connections());
        assert!(reads.acquire().await.is_none());
        assert_eq!(reads.idle_count(), 0);
    }
}
