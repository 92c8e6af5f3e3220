//! Keyset pagination, newest first: rows are ordered by `(created_at, id)`
//! descending and a cursor names the last row seen, so pages stay stable
//! while rows are inserted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use super::error::{DomainError, DomainResult};

pub const DEFAULT_FIRST: i32 = 20;
pub const MAX_FIRST: i32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.at.timestamp_micros(), self.id))
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
        let (micros, id) = raw.split_once(':')?;
        Some(Cursor { at: DateTime::from_timestamp_micros(micros.parse().ok()?)?, id: id.parse().ok()? })
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<Cursor>,
    /// Whether to count the whole result (`totalCount` asked for): one more
    /// statement, so only when needed.
    pub count_total: bool,
}

impl PageRequest {
    /// `first` must be 1..=100 (default 20); `after` must be a cursor we issued.
    pub fn new(first: Option<i32>, after: Option<&str>) -> DomainResult<Self> {
        let first = first.unwrap_or(DEFAULT_FIRST);
        if !(1..=MAX_FIRST).contains(&first) {
            return Err(DomainError::bad_input("first", format!("first must be between 1 and {MAX_FIRST}")));
        }
        let after = match after {
            None => None,
            Some(text) => Some(Cursor::decode(text).ok_or_else(|| DomainError::bad_input("after", "unknown cursor"))?),
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
    pub fn empty(request: PageRequest) -> Self {
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
    let rows = keyset(select, at_column, id_column, request).all(db).await?;
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
/// to learn whether another page follows) to any query over `E`.
pub fn keyset<Q, Col>(query: Q, at_column: Col, id_column: Col, request: PageRequest) -> Q
where
    Q: QueryFilter + QueryOrder + QuerySelect,
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
    query.order_by_desc(at_column).order_by_desc(id_column).limit(request.first + 1)
}

/// Turns `first + 1` rows into a page.
pub fn assemble<T>(mut rows: Vec<T>, request: PageRequest, total_count: u64, key: impl Fn(&T) -> Cursor) -> Page<T> {
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
    fn cursor_round_trip_and_bounds() {
        let cursor = Cursor { at: Utc::now(), id: Uuid::new_v4() };
        let decoded = Cursor::decode(&cursor.encode()).unwrap();
        assert_eq!(decoded.id, cursor.id);
        assert_eq!(decoded.at.timestamp_micros(), cursor.at.timestamp_micros());
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(101), None).is_err());
        assert!(PageRequest::new(Some(100), None).is_ok());
        assert!(PageRequest::new(None, Some("garbage")).is_err());
    }
}
