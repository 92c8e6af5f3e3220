//! A row as a type holds it: every column, or the card a list read
//! (`entities::*::Card`, the few columns a list shows). A field beyond the
//! card loads the whole row through the request's DataLoader, so an answer
//! is never made up from a column that was not read; `preload::cards_suffice`
//! picks cards only when no such field is asked.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use crate::domain::DomainError;
use crate::graphql::loaders::shared;

#[derive(Clone)]
pub enum Record<M, C> {
    Whole(M),
    Card(C),
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
            Record::Card(card) => {
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
            Record::Card(_) => None,
        }
    }
}

/// A field the row and its card both have.
macro_rules! either {
    ($record:expr, $field:ident) => {
        match &$record {
            $crate::graphql::types::record::Record::Whole(row) => &row.$field,
            $crate::graphql::types::record::Record::Card(card) => &card.$field,
        }
    };
}
pub(crate) use either;
