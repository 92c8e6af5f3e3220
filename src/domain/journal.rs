//! Writes the journal (`logs`) inside the caller's transaction: the change and
//! its log row commit or roll back together.
//!
//! On PostgreSQL every journal write first takes a transaction-scoped
//! advisory lock, so log ids become visible in the order they were handed
//! out (a reader resuming "after id N" can never miss a row that commits
//! late), and queues a NOTIFY that other server processes receive at commit.

use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait, Statement};
use uuid::Uuid;

use super::actor::Actor;
use super::clock;
use super::error::DomainResult;
use crate::entities::log;

/// The advisory lock key of the journal ("FFJRNL" in ASCII).
const JOURNAL_LOCK: i64 = 0x4646_4A52_4E4C;
pub const NOTIFY_CHANNEL: &str = "fieldforge_events";

pub struct LogRow<'a> {
    pub event: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub data: serde_json::Value,
}

impl<'a> LogRow<'a> {
    /// A change made by `actor`.
    pub fn by(actor: &Actor, event: &'a str, entity_type: &'a str, entity_id: Uuid, data: serde_json::Value) -> Self {
        LogRow { event, entity_type, entity_id, actor_id: Some(actor.user_id), data }
    }
}

pub async fn append(txn: &DatabaseTransaction, row: LogRow<'_>) -> DomainResult<()> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1), pg_notify($2, '')",
            [JOURNAL_LOCK.into(), NOTIFY_CHANNEL.into()],
        ))
        .await?;
    }
    let model = log::ActiveModel {
        event: Set(row.event.to_owned()),
        entity_type: Set(row.entity_type.to_owned()),
        entity_id: Set(row.entity_id),
        actor_id: Set(row.actor_id),
        data: Set(Some(row.data)),
        created_at: Set(clock::now()),
        ..Default::default()
    };
    log::Entity::insert(model).exec_without_returning(txn).await?;
    Ok(())
}
