//! The one error type of the domain. The GraphQL layer maps each variant to
//! the contract's `extensions.code`; messages never carry internals.
//!
//! `BadInput.field` is the name of the input as the contract spells it
//! (RULES.md: "with the field named"): the caller's vocabulary, not a
//! transport's.

use std::error::Error as StdError;
use std::sync::Arc;

use sea_orm::{DbErr, RuntimeErr};

/// What a CONFLICT collided with, when it is one row the caller can look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflicting {
    Job(uuid::Uuid),
    ScheduleEntry(uuid::Uuid),
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum DomainError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid email or password")]
    BadCredentials,
    #[error("not allowed for your role")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    BadInput { field: &'static str, message: String },
    #[error("{message}")]
    Conflict { message: String, with: Option<Conflicting> },
    #[error("cannot move a job from {from} to {to}")]
    InvalidTransition { from: &'static str, to: &'static str },
    #[error("too many attempts; retry in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    /// Anything unexpected. The cause (with its source chain) is logged,
    /// never shown. Shared, so a batched load's failure reaches every field
    /// that waited for it.
    #[error("internal error")]
    Internal(#[source] Arc<dyn StdError + Send + Sync>),
}

pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    pub fn bad_input(field: &'static str, message: impl Into<String>) -> Self {
        DomainError::BadInput { field, message: message.into() }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        DomainError::Conflict { message: message.into(), with: None }
    }

    pub fn conflict_with(message: impl Into<String>, with: Conflicting) -> Self {
        DomainError::Conflict { message: message.into(), with: Some(with) }
    }

    pub fn internal(cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        DomainError::Internal(Arc::from(cause.into()))
    }

    /// The cause and its sources, outermost first ("a: b: c"), for the log.
    pub fn cause_chain(&self) -> Option<String> {
        let DomainError::Internal(cause) = self else { return None };
        let mut text = cause.to_string();
        let mut next = cause.source();
        while let Some(source) = next {
            text.push_str(": ");
            text.push_str(&source.to_string());
            next = source.source();
        }
        Some(text)
    }
}

impl From<DbErr> for DomainError {
    fn from(err: DbErr) -> Self {
        DomainError::internal(err)
    }
}

impl From<crate::auth::password::HashError> for DomainError {
    fn from(err: crate::auth::password::HashError) -> Self {
        DomainError::internal(err)
    }
}

/// Database constraint violations the domain can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    Unique,
    ForeignKey,
    Check,
    /// The overlap guard of `job_assignments` (exclusion constraint or trigger).
    AssignmentOverlap,
}

/// The name of the overlap guard: the PostgreSQL exclusion constraint, and
/// the message the SQLite triggers raise.
const OVERLAP_GUARD: &str = "job_assignments_no_overlap";
/// PostgreSQL's SQLSTATE for an exclusion constraint violation.
const EXCLUSION_VIOLATION: &str = "23P01";

/// Classifies a database error as a constraint violation, when it is one:
/// by SQLSTATE / error kind and constraint name, never by message text,
/// except for SQLite triggers (they can only say what they mean in text).
pub fn violation(err: &DbErr) -> Option<Violation> {
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx))) = err else {
        return None;
    };
    let db = sqlx.as_database_error()?;
    if db.code().as_deref() == Some(EXCLUSION_VIOLATION) && db.constraint() == Some(OVERLAP_GUARD) {
        return Some(Violation::AssignmentOverlap);
    }
    use sea_orm::sqlx::error::ErrorKind;
    match db.kind() {
        ErrorKind::UniqueViolation => Some(Violation::Unique),
        ErrorKind::ForeignKeyViolation => Some(Violation::ForeignKey),
        ErrorKind::CheckViolation => Some(Violation::Check),
        // SQLite: RAISE(ABORT, '<guard>') in a trigger.
        _ if db.message() == OVERLAP_GUARD => Some(Violation::AssignmentOverlap),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn internal_errors_keep_their_sources() {
        let err = DomainError::internal(Outer(std::io::Error::other("disk on fire")));
        assert_eq!(err.cause_chain().as_deref(), Some("outer: disk on fire"));
        assert_eq!(err.to_string(), "internal error");
        assert_eq!(DomainError::Forbidden.cause_chain(), None);
    }
}
