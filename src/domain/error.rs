//! The one error type of the domain. The GraphQL layer maps each variant to
//! the contract's `extensions.code`; messages never carry internals.

use sea_orm::{DbErr, RuntimeErr, SqlErr};

#[derive(Debug, thiserror::Error)]
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
    Conflict { message: String, extensions: Vec<(&'static str, String)> },
    #[error("cannot move a job from {from} to {to}")]
    InvalidTransition { from: &'static str, to: &'static str },
    #[error("too many attempts; retry in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    /// Anything unexpected. The cause is logged, never shown.
    #[error("internal error")]
    Internal(String),
}

pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    pub fn bad_input(field: &'static str, message: impl Into<String>) -> Self {
        DomainError::BadInput { field, message: message.into() }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        DomainError::Conflict { message: message.into(), extensions: Vec::new() }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        DomainError::Internal(cause.to_string())
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

/// Classifies a database error as a constraint violation, when it is one.
pub fn violation(err: &DbErr) -> Option<Violation> {
    let text = match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e.to_string(),
        DbErr::Conn(RuntimeErr::SqlxError(e)) => e.to_string(),
        _ => err.to_string(),
    };
    if text.contains("job_assignments_no_overlap") || text.contains("23P01") {
        return Some(Violation::AssignmentOverlap);
    }
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Some(Violation::Unique),
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => Some(Violation::ForeignKey),
        _ if text.contains("CHECK constraint") || text.contains("violates check constraint") => Some(Violation::Check),
        _ => None,
    }
}

impl From<DbErr> for DomainError {
    fn from(err: DbErr) -> Self {
        DomainError::Internal(format!("database: {err}"))
    }
}
