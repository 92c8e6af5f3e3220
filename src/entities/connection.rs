//! The connection one HTTP request reads through.
//!
//! SeaORM takes a connection from the pool per statement, and sqlx pings
//! each one (a round trip to PostgreSQL) when it goes back: a request
//! reading its caller's account and then its page paid two pings for two
//! statements. A `RequestConnection` on PostgreSQL takes one of the read
//! connections (`read_pool.rs`, given back with no ping) at its first
//! statement and keeps it until the request ends (or `release`).
//!
//! Only reads go through it: writes (transactions) take their own
//! connection from the write pool, and a request that writes calls
//! `release` first, so that it never keeps a read connection idle while it
//! writes. On SQLite (one pooled connection, one writer) every statement
//! goes to the pool.
//!
//! Reads may be guarded by a condition (`guard`): each read carries it, in
//! the same statement (`guard.rs`), until one answers rows, which proves the
//! condition held.

use std::sync::Arc;

use sea_orm::sqlx;
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, ExecResult, QueryResult, RuntimeErr,
    Statement,
};
use tokio::sync::{Mutex, MutexGuard};

use super::guard;
use super::read_pool::{ReadConnection, ReadPool};

/// Called once per statement run on a read connection.
pub type OnStatement = Arc<dyn Fn() + Send + Sync>;

/// A request's reads: one held PostgreSQL connection, or the pool.
#[derive(Clone)]
pub struct RequestConnection {
    pool: DatabaseConnection,
    held: Option<Arc<Held>>,
}

struct Held {
    reads: Arc<ReadPool>,
    slot: Mutex<Slot>,
    guard: std::sync::Mutex<Guard>,
}

enum Guard {
    None,
    /// Carried by every read until one answers a row.
    Pending(Statement),
    /// A guarded read answered rows: the condition held.
    Proven,
}

enum Slot {
    /// Nothing run yet: a connection is taken at the first statement.
    Unused,
    Holding(ReadConnection),
    /// Given back: every later statement goes to the pool.
    Released,
}

impl RequestConnection {
    /// Every statement to the pool, each on whichever connection is free
    /// (websockets, whose requests live long; SQLite).
    pub fn pooled(pool: &DatabaseConnection) -> Self {
        RequestConnection { pool: pool.clone(), held: None }
    }

    /// One read connection for the whole request on PostgreSQL; the pool on
    /// SQLite.
    pub fn held(reads: &Arc<ReadPool>) -> Self {
        let held = reads.has_own_connections().then(|| {
            Arc::new(Held {
                reads: reads.clone(),
                slot: Mutex::new(Slot::Unused),
                guard: std::sync::Mutex::new(Guard::None),
            })
        });
        RequestConnection { pool: reads.pool().clone(), held }
    }

    /// The pool itself, for writes: a transaction takes its own connection.
    pub fn pool(&self) -> &DatabaseConnection {
        &self.pool
    }

    /// Gives the held connection back (if any), for other requests: before a
    /// request writes (on the write pool), and when it ends.
    pub async fn release(&self) {
        if let Some(held) = &self.held {
            *held.slot.lock().await = Slot::Released;
        }
    }

    /// Guards the reads to come with `condition` (a statement of one row
    /// and one boolean column; no row is false): each read carries it and
    /// answers no rows unless it holds, until one read answers rows. Nothing
    /// is guarded where reads have no connection of their own (SQLite), so
    /// the condition is never proven there.
    pub fn guard(&self, condition: Statement) {
        if let Some(held) = &self.held {
            *held.guard.lock().expect("guard") = Guard::Pending(condition);
        }
    }

    /// Whether a guarded read answered rows, so the condition held when it
    /// ran. False when every read answered none (or none ran): then the
    /// condition is not known either way.
    pub fn guard_proven(&self) -> bool {
        self.held.as_ref().is_some_and(|held| matches!(*held.guard.lock().expect("guard"), Guard::Proven))
    }

    /// Whether a connection is held right now (tests).
    pub async fn is_holding(&self) -> bool {
        match &self.held {
            Some(held) => matches!(*held.slot.lock().await, Slot::Holding(_)),
            None => false,
        }
    }
}

impl Held {
    /// The slot, locked, with a connection taken if none was yet (unless
    /// released). One whose statement was cancelled midway is closed and
    /// replaced first: its reply may still be on the wire.
    async fn lock(&self) -> Result<MutexGuard<'_, Slot>, DbErr> {
        let mut slot = self.slot.lock().await;
        if matches!(&*slot, Slot::Holding(connection) if !connection.is_clean()) {
            *slot = Slot::Unused;
        }
        if matches!(*slot, Slot::Unused) {
            *slot = match self.reads.acquire().await {
                Some(connection) => Slot::Holding(connection.map_err(acquire_error)?),
                None => Slot::Released,
            };
        }
        Ok(slot)
    }

    async fn execute(&self, pool: &DatabaseConnection, statement: Statement) -> Result<ExecResult, DbErr> {
        let mut slot = self.lock().await?;
        let Slot::Holding(connection) = &mut *slot else { return pool.execute_raw(statement).await };
        (self.reads.on_statement)();
        let done = connection.execute(&statement).await;
        done.map(Into::into).map_err(|err| DbErr::Exec(RuntimeErr::SqlxError(Arc::new(err))))
    }

    async fn query_one(&self, pool: &DatabaseConnection, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut slot = self.lock().await?;
        let Slot::Holding(connection) = &mut *slot else { return pool.query_one_raw(statement).await };
        (self.reads.on_statement)();
        if let Some(condition) = self.pending_guard() {
            let rows = self.guarded(connection, &statement, &condition).await?;
            return Ok(rows.into_iter().next());
        }
        let done = connection.fetch_optional(&statement).await;
        done.map(|row| row.map(Into::into)).map_err(query_error)
    }

    async fn query_all(&self, pool: &DatabaseConnection, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut slot = self.lock().await?;
        let Slot::Holding(connection) = &mut *slot else { return pool.query_all_raw(statement).await };
        (self.reads.on_statement)();
        if let Some(condition) = self.pending_guard() {
            return self.guarded(connection, &statement, &condition).await;
        }
        let done = connection.fetch_all(&statement).await;
        done.map(|rows| rows.into_iter().map(Into::into).collect()).map_err(query_error)
    }

    fn pending_guard(&self) -> Option<Statement> {
        match &*self.guard.lock().expect("guard") {
            Guard::Pending(condition) => Some(condition.clone()),
            Guard::None | Guard::Proven => None,
        }
    }

    /// `statement`'s rows if the guard's condition holds (none otherwise),
    /// in one statement; rows prove it held.
    async fn guarded(
        &self,
        connection: &mut ReadConnection,
        statement: &Statement,
        condition: &Statement,
    ) -> Result<Vec<QueryResult>, DbErr> {
        let rows = connection.fetch_all(&guard::guard(statement, condition)).await.map_err(query_error)?;
        if !rows.is_empty() {
            *self.guard.lock().expect("guard") = Guard::Proven;
        }
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

// The held path is boxed on its own, so a pooled `RequestConnection` (every
// websocket operation) waits in a future the size of the pool's, not one
// that also has room for a checkout and a sqlx query.
#[async_trait::async_trait]
impl ConnectionTrait for RequestConnection {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.pool.get_database_backend()
    }

    async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        match &self.held {
            None => self.pool.execute_raw(statement).await,
            Some(held) => Box::pin(held.execute(&self.pool, statement)).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        // Not used by reads; always the pool.
        self.pool.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.held {
            None => self.pool.query_one_raw(statement).await,
            Some(held) => Box::pin(held.query_one(&self.pool, statement)).await,
        }
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.held {
            None => self.pool.query_all_raw(statement).await,
            Some(held) => Box::pin(held.query_all(&self.pool, statement)).await,
        }
    }
}

fn query_error(err: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(err)))
}

/// As SeaORM maps a failed checkout.
fn acquire_error(err: sqlx::Error) -> DbErr {
    match err {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        other => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(other))),
    }
}
