//! A transaction that can only commit by journalling: `commit` takes the
//! change, so a write use case that forgets its journal entry does not
//! compile (the tidy test keeps `begin()` out of the domain).
//!
//! On PostgreSQL every journal write first takes a transaction-scoped
//! advisory lock, so journal ids become visible in the order they were
//! handed out (a reader resuming "after id N" can never miss a row that
//! commits late), and queues a NOTIFY that other server processes receive
//! at commit.
//!
//! An entry's time (`at`) is when it took its place in the journal: on
//! PostgreSQL the database's clock once the lock is held, on SQLite the
//! clock once the write lock is held. Times therefore never go backwards
//! along the journal (a write that began early but committed late is not
//! dated before the entries ahead of it), and every server process dates
//! its entries by the same clock.

use std::ops::Deref;

use chrono::{SubsecRound, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use uuid::Uuid;

use super::change::Change;
use super::entry;
use crate::entities::journal_entry;

/// The advisory lock key of the journal ("FFJRNL" in ASCII).
const JOURNAL_LOCK: i64 = 0x4646_4A52_4E4C;
/// The NOTIFY channel that tells other processes the journal grew.
pub const NOTIFY_CHANNEL: &str = "fieldforge_events";

/// A write transaction on behalf of `actor_id` (none for anonymous events
/// such as a failed login).
pub struct Journaled {
    txn: DatabaseTransaction,
    actor_id: Option<Uuid>,
    recorded: std::sync::atomic::AtomicBool,
}

impl Journaled {
    pub async fn begin(db: &DatabaseConnection, actor_id: Option<Uuid>) -> Result<Self, DbErr> {
        // SQLite: take the write lock first. A write that starts by reading
        // cannot upgrade once another connection (the webhook worker's) has
        // committed since; it would fail at once instead of waiting its turn.
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        Ok(Journaled { txn: db.begin_with_options(options).await?, actor_id, recorded: Default::default() })
    }

    /// Journals `change` now; more may follow before `commit`. Returns the
    /// journal row's id (its position).
    pub async fn record(&self, entity_id: Uuid, change: Change) -> Result<i64, DbErr> {
        let id = if self.txn.get_database_backend() == DatabaseBackend::Postgres {
            insert_locked(&self.txn, entry::to_row(&change, entity_id, self.actor_id, None)).await?
        } else {
            // The IMMEDIATE transaction holds SQLite's one write lock: now
            // is after every entry ahead of this one.
            let at = Utc::now().trunc_subsecs(6);
            let row = entry::to_row(&change, entity_id, self.actor_id, Some(at));
            journal_entry::Entity::insert(row).exec(&self.txn).await?.last_insert_id
        };
        self.recorded.store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(id)
    }

    /// Journals the last change and commits the whole write.
    pub async fn commit(self, entity_id: Uuid, change: Change) -> Result<(), DbErr> {
        self.record(entity_id, change).await?;
        self.txn.commit().await
    }

    /// Commits a write whose changes were all `record`ed already (when a
    /// row of the write needs its own journal position). Refuses to commit
    /// a write that journalled nothing.
    pub async fn commit_recorded(self) -> Result<(), DbErr> {
        if !self.recorded.load(std::sync::atomic::Ordering::Relaxed) {
            self.txn.rollback().await?;
            return Err(DbErr::Custom("a write must journal its change before it commits".into()));
        }
        self.txn.commit().await
    }
}

/// PostgreSQL: takes the journal lock, queues the NOTIFY and inserts the
/// row, dated by the database's clock once the lock is held, in one
/// statement. The lock is held until commit, so the write holds it for one
/// round trip (this statement's answer, then `COMMIT`) rather than two:
/// under load every round trip waits for this process's scheduler, and
/// every other journal write waits for the lock.
const INSERT_LOCKED: &str = "WITH locked AS (SELECT pg_advisory_xact_lock($1), pg_notify($2, '')) \
    INSERT INTO logs (event, entity_type, entity_id, actor_id, data, created_at) \
    SELECT $3, $4, $5, $6, $7, clock_timestamp() FROM locked RETURNING id";

async fn insert_locked(txn: &DatabaseTransaction, row: journal_entry::ActiveModel) -> Result<i64, DbErr> {
    let values = [
        Some(JOURNAL_LOCK.into()),
        Some(NOTIFY_CHANNEL.into()),
        row.event.into_value(),
        row.entity_type.into_value(),
        row.entity_id.into_value(),
        row.actor_id.into_value(),
        row.data.into_value(),
    ];
    let values: Option<Vec<sea_orm::Value>> = values.into_iter().collect();
    let values = values.ok_or_else(|| DbErr::Custom("a journal row lacks a value".into()))?;
    let statement = Statement::from_sql_and_values(DatabaseBackend::Postgres, INSERT_LOCKED, values);
    let inserted = txn.query_one_raw(statement).await?.ok_or(DbErr::RecordNotInserted)?;
    inserted.try_get("", "id")
}

impl Journaled {
    /// Gives up the write: nothing of it is kept, so nothing is journalled.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl Deref for Journaled {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}
