//! The event bus: the journal (`logs`) is the only source of events.
//!
//! One tailer task per process reads rows after its high-water mark and
//! broadcasts them in id order. It wakes when this process ran a mutation
//! (`poke`), when PostgreSQL NOTIFY says another process wrote (`listener`),
//! and once a second regardless, so a lost wake-up costs at most a second.
//!
//! Ids are handed out in commit order (the journal writer holds a
//! transaction-scoped advisory lock on PostgreSQL; SQLite has one writer), so
//! "every row with id > cursor" never skips a row that commits late.

pub mod cursor;
pub mod feed;
mod listener;
pub mod snapshots;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sea_orm::{ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::{Notify, broadcast};

use crate::domain::DomainResult;
use crate::entities::{invoice, job, log};

/// Journal rows as they reach subscribers.
pub type Event = Arc<log::Model>;

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
    pub async fn start(db: DatabaseConnection) -> DomainResult<Arc<EventBus>> {
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
    async fn catch_up(&self) -> DomainResult<()> {
        loop {
            let after = self.high_water();
            let rows = rows_after(&self.db, after, BATCH).await?;
            let full = rows.len() as u64 == BATCH;
            if self.sender.receiver_count() > 0 {
                self.preload_jobs(&rows).await;
            }
            for row in rows {
                self.high_water.store(row.id, Ordering::Release);
                // No receivers is fine: nobody is watching.
                let _ = self.sender.send(Arc::new(row));
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// The jobs of a batch of job events in one statement, before they are
    /// broadcast: subscribers then resolve `JobEvent.job` without waiting
    /// for a lookup per event, and the events of a batch go out back to
    /// back. A failure here only means each event looks its job up itself.
    async fn preload_jobs(&self, rows: &[log::Model]) {
        let job_rows: Vec<&log::Model> = rows.iter().filter(|r| r.entity_type == "job").collect();
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

pub async fn latest_id(db: &DatabaseConnection) -> DomainResult<i64> {
    Ok(log::Entity::find().order_by_desc(log::Column::Id).limit(1).one(db).await?.map_or(0, |row| row.id))
}

pub async fn rows_after(db: &DatabaseConnection, after: i64, limit: u64) -> DomainResult<Vec<log::Model>> {
    Ok(log::Entity::find().filter(log::Column::Id.gt(after)).order_by_asc(log::Column::Id).limit(limit).all(db).await?)
}

pub async fn exists(db: &DatabaseConnection, id: i64) -> DomainResult<bool> {
    Ok(log::Entity::find_by_id(id).one(db).await?.is_some())
}
