//! The audit log: the journal read back, newest first (admins only).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::actor::{Actor, Permission};
use super::error::{DomainError, DomainResult};
use super::page::{DEFAULT_FIRST, MAX_FIRST};
use crate::entities::log;

pub struct LogPage {
    pub rows: Vec<log::Model>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub total_count: u64,
}

/// Journal positions as opaque cursors.
pub fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("log:{id}"))
}

pub fn decode_cursor(text: &str) -> Option<i64> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
    raw.strip_prefix("log:")?.parse().ok()
}

pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    first: Option<i32>,
    after: Option<&str>,
    entity_type: Option<&str>,
    entity_id: Option<Uuid>,
    count_total: bool,
) -> DomainResult<LogPage> {
    actor.require(Permission::ReadAuditLog)?;
    let first = first.unwrap_or(DEFAULT_FIRST);
    if !(1..=MAX_FIRST).contains(&first) {
        return Err(DomainError::bad_input("first", format!("first must be between 1 and {MAX_FIRST}")));
    }
    let after =
        after.map(|c| decode_cursor(c).ok_or_else(|| DomainError::bad_input("after", "unknown cursor"))).transpose()?;
    let mut select = log::Entity::find();
    if let Some(entity_type) = entity_type {
        select = select.filter(log::Column::EntityType.eq(entity_type));
    }
    if let Some(entity_id) = entity_id {
        select = select.filter(log::Column::EntityId.eq(entity_id));
    }
    let total_count = if count_total { select.clone().count(db).await? } else { 0 };
    if let Some(after) = after {
        select = select.filter(log::Column::Id.lt(after));
    }
    let mut rows = select.order_by_desc(log::Column::Id).limit(first as u64 + 1).all(db).await?;
    let has_next_page = rows.len() > first as usize;
    rows.truncate(first as usize);
    Ok(LogPage { rows, has_next_page, has_previous_page: after.is_some(), total_count })
}
