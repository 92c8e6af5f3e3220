//! Writes the journal (`logs`) inside the caller's transaction: the change and
//! its log row commit or roll back together.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::error::DomainResult;
use crate::entities::log;

pub struct LogRow<'a> {
    pub event: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub data: serde_json::Value,
}

pub async fn append(db: &impl ConnectionTrait, row: LogRow<'_>) -> DomainResult<()> {
    let model = log::ActiveModel {
        event: Set(row.event.to_owned()),
        entity_type: Set(row.entity_type.to_owned()),
        entity_id: Set(row.entity_id),
        actor_id: Set(row.actor_id),
        data: Set(Some(row.data)),
        created_at: Set(super::clock::now()),
        ..Default::default()
    };
    log::Entity::insert(model).exec_without_returning(db).await?;
    Ok(())
}
