//! The journal read back by admins: `auditLog` (newest first) and the
//! change feed `changes` (oldest first).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Select};
use uuid::Uuid;

use super::actor::{Actor, Permission};
use super::error::DomainResult;
use super::page::{self, Cursor, Page, PageRequest};
use crate::entities::journal_entry;
use crate::entities::limit::first_rows;
use crate::journal::EntityType;

/// Which entries: all, or those about one kind of row and/or one row.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditFilter<'a> {
    /// As the client wrote it; a name that is no entity type matches nothing.
    pub entity_type: Option<&'a str>,
    pub entity_id: Option<Uuid>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    first: Option<i32>,
    after: Option<&str>,
    count_total: bool,
    filter: AuditFilter<'_>,
) -> DomainResult<Page<journal_entry::Model>> {
    actor.require(Permission::ReadAuditLog)?;
    let request = PageRequest::of_journal(first, after)?.counting(count_total);
    let mut select = journal_entry::Entity::find();
    if let Some(text) = filter.entity_type {
        let Some(entity_type) = EntityType::parse(text) else { return Ok(Page::empty(request)) };
        select = select.filter(journal_entry::Column::EntityType.eq(entity_type.as_str()));
    }
    if let Some(entity_id) = filter.entity_id {
        select = select.filter(journal_entry::Column::EntityId.eq(entity_id));
    }
    journal_page(db, select, request, Direction::NewestFirst).await
}

/// `changes`: the journal oldest first, for integrations that poll. Its
/// cursors are the subscriptions' (and the audit log's): a consumer moves
/// between the feed and `jobChanged` without loss. Journal ids become
/// visible in order (see `journal/write.rs`), so "after id N" never skips
/// a row that commits late.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn changes(
    db: &impl ConnectionTrait,
    actor: &Actor,
    first: Option<i32>,
    after: Option<&str>,
    count_total: bool,
    entity_types: Option<&[String]>,
) -> DomainResult<Page<journal_entry::Model>> {
    actor.require(Permission::ReadAuditLog)?;
    let request = PageRequest::of_journal(first, after)?.counting(count_total);
    // A cursor must name a row this journal holds (0: from the beginning).
    let after = super::live::resume_point(db, after).await?;
    let mut select = journal_entry::Entity::find();
    if let Some(names) = entity_types {
        // Names that are no entity type match nothing.
        let known: Vec<&str> = names.iter().filter_map(|n| EntityType::parse(n)).map(EntityType::as_str).collect();
        select = select.filter(journal_entry::Column::EntityType.is_in(known));
    }
    journal_page(db, select, PageRequest { after, ..request }, Direction::OldestFirst).await
}

enum Direction {
    NewestFirst,
    OldestFirst,
}

/// One page of journal rows after the request's position, in `direction`.
async fn journal_page(
    db: &impl ConnectionTrait,
    select: Select<journal_entry::Entity>,
    request: PageRequest<i64>,
    direction: Direction,
) -> DomainResult<Page<journal_entry::Model>> {
    let total_count = if request.count_total { select.clone().count(db).await? } else { 0 };
    let id = journal_entry::Column::Id;
    let select = match (direction, request.after) {
        (Direction::NewestFirst, None) => select.order_by_desc(id),
        (Direction::NewestFirst, Some(after)) => select.filter(id.lt(after)).order_by_desc(id),
        (Direction::OldestFirst, None) => select.order_by_asc(id),
        (Direction::OldestFirst, Some(after)) => select.filter(id.gt(after)).order_by_asc(id),
    };
    let rows = first_rows(db, &select, request.first + 1).await?;
    Ok(page::assemble(rows, request, total_count, |row| Cursor::Journal(row.id)))
}
