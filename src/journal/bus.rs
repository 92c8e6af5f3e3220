//! The bus: the journal is the only source of live events.
//!
//! One tailer task per process reads rows after its high-water mark and
//! broadcasts them in id order. It wakes when this process ran a mutation
//! (`poke`), when PostgreSQL NOTIFY says another process wrote (`listener`),
//! and once a second regardless, so a lost wake-up costs at most a second.
//!
//! Ids are handed out in commit order (the journal writer holds a
//! transaction-scoped advisory lock on PostgreSQL; SQLite has one writer), so
//! "every row with id > cursor" never skips a row that commits late.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sea_orm::{
    ColumnTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::{Notify, broadcast};

use super::change::EntityType;
use super::entry::{self, Entry};
use super::{listener, snapshots};
use crate::entities::limit::first_rows;
use crate::entities::{invoice, job, journal_entry};

/// Journal entries as they reach subscribers.
pub type Event = Arc<Entry>;

const BROADCAST_CAPACITY: usize = 4096;
const BATCH: u64 = 500;
const SAFETY_TICK: Duration = Duration::from_secs(1);

pub struct EventBus {
    db: DatabaseConnection,
    sender: broadcast::Sender<Event>,
    wake: Notify,
    high_water: AtomicI64,
    /// The job of a job event, as first delivered.
    pub jobs: snapshots::Snapshots<Option<job::Model>>,
    /// Who a job event's job was assigned to, as first delivered.
    pub assignees: snapshots::Snapshots<Option<uuid::Uuid>>,
    /// The invoice of an invoice event, as first delivered.
    pub invoices: snapshots::Snapshots<Option<invoice::Model>>,
}

impl EventBus {
    /// Starts the tailer (and, on PostgreSQL, the LISTEN task).
    pub async fn start(db: DatabaseConnection) -> Result<Arc<EventBus>, DbErr> {
        let high_water = latest_id(&db).await?;
        let (sender, _) = broadcast::channel(BROADCAST_CAPACITY);
        let bus = Arc::new(EventBus {
            db,
            sender,
            wake: Notify::new(),
            high_water: AtomicI64::new(high_water),
            jobs: Default::default(),
            assignees: Default::default(),
            invoices: Default::default(),
        });
        tokio::spawn(tail(Arc::downgrade(&bus)));
        if bus.db.get_database_backend() == DatabaseBackend::Postgres {
            tokio::spawn(listener::listen(Arc::downgrade(&bus)));
        }
        Ok(bus)
    }

    /// Something was written: read the journal now.
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    /// The last id broadcast.
    pub fn high_water(&self) -> i64 {
        self.high_water.load(Ordering::Acquire)
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Broadcasts every row after the high-water mark, in order.
    async fn catch_up(&self) -> Result<(), DbErr> {
        loop {
            let after = self.high_water();
            let batch = entries_after(&self.db, after, BATCH).await?;
            if self.sender.receiver_count() > 0 {
                self.preload_jobs(&batch.entries).await;
            }
            for entry in batch.entries {
                self.high_water.store(entry.id, Ordering::Release);
                // No receivers is fine: nobody is watching.
                let _ = self.sender.send(Arc::new(entry));
            }
            if let Some(last_id) = batch.last_id {
                self.high_water.fetch_max(last_id, Ordering::AcqRel);
            }
            if !batch.full {
                return Ok(());
            }
        }
    }

    /// The jobs of a batch of job events in one statement, before they are
    /// broadcast: subscribers then resolve `JobEvent.job` without waiting
    /// for a lookup per event, and the events of a batch go out back to
    /// back. A failure here only means each event looks its job up itself.
    async fn preload_jobs(&self, rows: &[Entry]) {
        let job_rows: Vec<&Entry> = rows.iter().filter(|r| r.entity_type() == EntityType::Job).collect();
        if job_rows.is_empty() {
            return;
        }
        let ids = job_rows.iter().map(|r| r.entity_id);
        let jobs = match job::Entity::find().filter(job::Column::Id.is_in(ids)).all(&self.db).await {
            Ok(jobs) => jobs,
            Err(err) => {
                tracing::debug!(%err, "could not preload the jobs of new events");
                return;
            }
        };
        let by_id: std::collections::HashMap<_, _> = jobs.into_iter().map(|j| (j.id, j)).collect();
        for row in job_rows {
            self.jobs.fill(row.id, by_id.get(&row.entity_id).cloned());
        }
    }
}

async fn tail(bus: std::sync::Weak<EventBus>) {
    loop {
        let Some(strong) = bus.upgrade() else { return };
        if let Err(err) = strong.catch_up().await {
            tracing::warn!(%err, "event tailer could not read the journal; retrying");
        }
        let waiting = async {
            tokio::select! {
                _ = strong.wake.notified() => {}
                _ = tokio::time::sleep(SAFETY_TICK) => {}
            }
        };
        waiting.await;
    }
}

pub async fn latest_id(db: &DatabaseConnection) -> Result<i64, DbErr> {
    let newest = journal_entry::Entity::find().order_by_desc(journal_entry::Column::Id).limit(1).one(db).await?;
    Ok(newest.map_or(0, |row| row.id))
}

/// Up to `limit` journal rows after a position, read as entries.
pub struct Batch {
    pub entries: Vec<Entry>,
    /// The last row read, also when this build could not read it as a
    /// change (it was skipped with a warning, and the cursor moves past it).
    pub last_id: Option<i64>,
    /// Whether the batch was full: more rows may follow.
    pub full: bool,
}

pub async fn entries_after(db: &DatabaseConnection, after: i64, limit: u64) -> Result<Batch, DbErr> {
    let rows = rows_after(db, after, limit).await?;
    let last_id = rows.last().map(|row| row.id);
    let full = rows.len() as u64 == limit;
    let entries = rows
        .iter()
        .filter_map(|row| entry::from_row(row).map_err(|err| tracing::warn!(%err, "skipped a journal row")).ok())
        .collect();
    Ok(Batch { entries, last_id, full })
}

/// Up to `limit` journal rows after a position, oldest first.
pub async fn rows_after(
    db: &impl sea_orm::ConnectionTrait,
    after: i64,
    limit: u64,
) -> Result<Vec<journal_entry::Model>, DbErr> {
    let after_position = journal_entry::Entity::find()
        .filter(journal_entry::Column::Id.gt(after))
        .order_by_asc(journal_entry::Column::Id);
    first_rows(db, &after_position, limit).await
}

pub async fn exists(db: &impl sea_orm::ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    Ok(journal_entry::Entity::find_by_id(id).one(db).await?.is_some())
}
