//! The domain layer: every rule of RULES.md that code enforces, one function
//! per use case. Use cases take the caller (`Actor`) and a connection or
//! transaction, check permissions through `actor::Permission`, validate, and
//! write their change and its journal row in one transaction.

pub mod access;
pub mod actor;
pub mod audit;
pub mod billing;
pub mod clock;
pub mod completion;
pub mod cursor;
pub mod customers;
pub mod error;
pub mod job_pages;
pub mod jobs;
pub mod lifecycle;
pub mod live;
pub mod location;
pub mod lookups;
pub mod money;
pub mod page;
pub mod schedules;
pub mod suggestions;
pub mod technicians;
pub mod users;
pub mod validate;
pub mod webhook_rules;
pub mod webhooks;
pub mod windows;

pub use actor::{Actor, Permission};
pub use error::{DomainError, DomainResult};

/// Opens a write on behalf of `actor`. It can only commit together with its
/// journal entry (`Journaled::commit` takes the change).
pub(crate) async fn write(db: &sea_orm::DatabaseConnection, actor: &Actor) -> DomainResult<crate::journal::Journaled> {
    Ok(crate::journal::Journaled::begin(db, Some(actor.user_id)).await?)
}
