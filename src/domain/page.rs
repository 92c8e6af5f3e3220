//! Keyset pagination, newest first: rows are ordered by `(created_at, id)`
//! descending and a cursor names the last row seen, so pages stay stable
//! while rows are inserted.

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QueryTrait, Select, Statement,
};

pub use super::cursor::{Cursor, RowKey};
use super::error::{DomainError, DomainResult};
use crate::entities::limit::limited;

pub const DEFAULT_FIRST: i32 = 20;
pub const MAX_FIRST: i32 = 100;

/// What a client asked for: `first` and `after` (a row position, or a
/// journal id for the journal's lists).
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<Position = RowKey> {
    pub first: u64,
    pub after: Option<Position>,
    /// Whether to count the whole result (`totalCount` asked for): one more
    /// statement, so only when needed.
    pub count_total: bool,
}

impl PageRequest<RowKey> {
    /// `first` must be 1..=100 (default 20); `after` must be a cursor we issued.
    pub fn new(first: Option<i32>, after: Option<&str>) -> DomainResult<Self> {
        PageRequest::read(first, after, Cursor::as_row)
    }
}

impl PageRequest<i64> {
    /// A page of the journal: `after` must be a journal cursor.
    pub fn of_journal(first: Option<i32>, after: Option<&str>) -> DomainResult<Self> {
        PageRequest::read(first, after, Cursor::as_journal)
    }
}

impl<Position> PageRequest<Position> {
    fn read(first: Option<i32>, after: Option<&str>, position: fn(Cursor) -> Option<Position>) -> DomainResult<Self> {
        let first = first.unwrap_or(DEFAULT_FIRST);
        if !(1..=MAX_FIRST).contains(&first) {
            return Err(DomainError::bad_input("first", format!("first must be between 1 and {MAX_FIRST}")));
        }
        let after = match after {
            None => None,
            Some(text) => Some(
                Cursor::decode(text)
                    .and_then(position)
                    .ok_or_else(|| DomainError::bad_input("after", "unknown cursor"))?,
            ),
        };
        Ok(PageRequest { first: first as u64, after, count_total: true })
    }

    pub fn counting(mut self, count_total: bool) -> Self {
        self.count_total = count_total;
        self
    }
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<(Cursor, T)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub total_count: u64,
}

impl<T> Page<T> {
    /// A page with nothing on it (a filter that can match nothing).
    pub fn empty<Position>(request: PageRequest<Position>) -> Self {
        Page { items: Vec::new(), has_next_page: false, has_previous_page: request.after.is_some(), total_count: 0 }
    }

    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(|(c, t)| (c, f(t))).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            total_count: self.total_count,
        }
    }
}

/// One page of `select`, newest first by `(at_column, id_column)`.
pub async fn fetch<E, C>(
    db: &C,
    select: Select<E>,
    at_column: E::Column,
    id_column: E::Column,
    request: PageRequest,
    key: impl Fn(&E::Model) -> Cursor,
) -> DomainResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total_count = total(db, &select, request).await?;
    let statement = keyset(select, at_column, id_column, request, db.get_database_backend());
    let rows = E::find().from_raw_sql(statement).all(db).await?;
    Ok(assemble(rows, request, total_count, key))
}

/// The size of the whole result, when the request wants it.
pub async fn total<E, C>(db: &C, select: &Select<E>, request: PageRequest) -> DomainResult<u64>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    if request.count_total { Ok(select.clone().count(db).await?) } else { Ok(0) }
}

/// Applies the cursor, the newest-first order and the page size (plus one,
/// to learn whether another page follows) to any query over `E`: the
/// page's statement, its limit written as a number (`entities::limit`).
pub fn keyset<Q, Col>(
    query: Q,
    at_column: Col,
    id_column: Col,
    request: PageRequest,
    backend: DatabaseBackend,
) -> Statement
where
    Q: QueryFilter + QueryOrder + QueryTrait,
    Col: ColumnTrait,
{
    let mut query = query;
    if let Some(after) = request.after {
        query = query.filter(
            Condition::any()
                .add(at_column.lt(after.at))
                .add(Condition::all().add(at_column.eq(after.at)).add(id_column.lt(after.id))),
        );
    }
    limited(&query.order_by_desc(at_column).order_by_desc(id_column), backend, request.first + 1)
}

/// Turns `first + 1` rows into a page.
pub fn assemble<T, Position>(
    mut rows: Vec<T>,
    request: PageRequest<Position>,
    total_count: u64,
    key: impl Fn(&T) -> Cursor,
) -> Page<T> {
    let has_next_page = rows.len() as u64 > request.first;
    rows.truncate(request.first as usize);
    Page {
        items: rows.into_iter().map(|row| (key(&row), row)).collect(),
        has_next_page,
        has_previous_page: request.after.is_some(),
        total_count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_and_after_are_checked() {
        assert!(
            PageRequest::of_journal(None, Some(&Cursor::row(chrono::Utc::now(), uuid::Uuid::nil()).encode())).is_err()
        );
        assert!(PageRequest::new(None, Some(&Cursor::Journal(1).encode())).is_err());
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(101), None).is_err());
        assert!(PageRequest::new(Some(100), None).is_ok());
        assert!(PageRequest::new(None, Some("garbage")).is_err());
    }
}
