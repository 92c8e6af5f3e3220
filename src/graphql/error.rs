//! Domain errors become GraphQL errors with the contract's `extensions.code`.
//! Internal causes are logged here and replaced by a generic message.

use async_graphql::ErrorExtensionValues;

use crate::domain::DomainError;
use crate::domain::error::Conflicting;

impl From<DomainError> for async_graphql::Error {
    fn from(err: DomainError) -> Self {
        let mut extensions = ErrorExtensionValues::default();
        let code = match &err {
            DomainError::Unauthenticated | DomainError::BadCredentials => "UNAUTHENTICATED",
            DomainError::Forbidden => "FORBIDDEN",
            DomainError::NotFound(_) => "NOT_FOUND",
            DomainError::BadInput { field, .. } => {
                extensions.set("field", *field);
                "BAD_USER_INPUT"
            }
            DomainError::Conflict { with, .. } => {
                match with {
                    Some(Conflicting::Job(id)) => extensions.set("conflictingJobId", id.to_string()),
                    Some(Conflicting::ScheduleEntry(id)) => {
                        extensions.set("conflictingScheduleEntryId", id.to_string())
                    }
                    None => {}
                }
                "CONFLICT"
            }
            DomainError::InvalidTransition { from, to } => {
                extensions.set("from", *from);
                extensions.set("to", *to);
                "INVALID_TRANSITION"
            }
            DomainError::RateLimited { retry_after_seconds } => {
                extensions.set("retryAfterSeconds", *retry_after_seconds);
                "RATE_LIMITED"
            }
            DomainError::Internal(_) => {
                tracing::error!(cause = err.cause_chain().unwrap_or_default(), "internal error");
                "INTERNAL_SERVER_ERROR"
            }
        };
        extensions.set("code", code);
        async_graphql::Error { message: err.to_string(), source: None, extensions: Some(extensions) }
    }
}

/// An error with a code but no domain origin (transport and limit refusals).
pub fn coded(message: impl Into<String>, code: &'static str) -> async_graphql::ServerError {
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    let mut error = async_graphql::ServerError::new(message, None);
    error.extensions = Some(extensions);
    error
}
