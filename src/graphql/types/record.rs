//! A row as a type holds it: every column, or the card a list read
//! (`entities::*::Card`, the few columns a list shows), with the card's
//! fields the list left unread. A field beyond the card, or left unread,
//! loads the whole row through the request's DataLoader, so an answer is
//! never made up from a column that was not read; `preload::cards_suffice`
//! picks cards only when no such field is asked, and `preload::unread`
//! leaves unread only fields that are not asked.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use crate::domain::DomainError;
use crate::entities::positional::{Positional, Unread};
use crate::graphql::loaders::shared;

#[derive(Clone)]
pub enum Record<M, C> {
    Whole(M),
    Card(C, Unread<C>),
}

impl<M: Clone, C> Record<M, C> {
    /// The whole row: at hand, or loaded with `load` (batched per request).
    /// `what` names the row in NOT_FOUND.
    pub async fn whole<Fut>(&self, what: &'static str, load: impl FnOnce(&C) -> Fut) -> Result<Cow<'_, M>, DomainError>
    where
        Fut: Future<Output = Result<Option<M>, Arc<DomainError>>>,
    {
        match self {
            Record::Whole(row) => Ok(Cow::Borrowed(row)),
            Record::Card(card, _) => {
                let row = load(card).await.map_err(shared)?;
                // Read a moment ago in the same request: gone only if deleted
                // or hidden from the caller since.
                row.map(Cow::Owned).ok_or(DomainError::NotFound(what))
            }
        }
    }
}

impl<M, C> Record<M, C> {
    /// The whole row when it was read, without loading it.
    pub fn whole_at_hand(&self) -> Option<&M> {
        match self {
            Record::Whole(row) => Some(row),
            Record::Card(..) => None,
        }
    }
}

impl<M, C: Positional> Record<M, C> {
    /// A field the row and its card both have, which the card may have
    /// left unread: at hand, or `None` when it was left unread.
    pub fn read_at_hand<'a, T>(&'a self, field: &str, of_row: fn(&M) -> &T, of_card: fn(&C) -> &T) -> Option<&'a T> {
        match self {
            Record::Whole(row) => Some(of_row(row)),
            Record::Card(card, unread) => (!unread.has(field)).then(|| of_card(card)),
        }
    }
}

/// A field the row and its card both have, never left unread.
macro_rules! either {
    ($record:expr, $field:ident) => {
        match &$record {
            $crate::graphql::types::record::Record::Whole(row) => &row.$field,
            $crate::graphql::types::record::Record::Card(card, _) => &card.$field,
        }
    };
}
pub(crate) use either;

/// `Record::read_at_hand` of a field, named once.
macro_rules! read_at_hand {
    ($record:expr, $field:ident) => {
        $record.read_at_hand(stringify!($field), |row| &row.$field, |card| &card.$field)
    };
}
pub(crate) use read_at_hand;

/// A resolver's answer for a field the card may have left unread: at hand,
/// or from the whole row (the view's `whole`, loaded through its loader).
macro_rules! read_field {
    ($view:expr, $ctx:expr, $field:ident) => {
        match $crate::graphql::types::record::read_at_hand!($view.0, $field) {
            Some(value) => Ok(value.clone()),
            None => $view.whole($ctx).await.map(|row| row.$field.clone()),
        }
    };
}
pub(crate) use read_field;
