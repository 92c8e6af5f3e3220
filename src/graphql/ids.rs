//! GraphQL `ID`s are UUIDs. A malformed ID names nothing: queries answer
//! null and mutations NOT_FOUND, as for an unknown one.

use async_graphql::ID;
use uuid::Uuid;

use crate::domain::DomainError;

pub fn parse(id: &ID) -> Option<Uuid> {
    Uuid::parse_str(id.as_str()).ok()
}

pub fn require(id: &ID, entity: &'static str) -> Result<Uuid, DomainError> {
    parse(id).ok_or(DomainError::NotFound(entity))
}

/// For filters and lookups where an unknown ID simply matches nothing.
pub fn parse_or_nil(id: &ID) -> Uuid {
    parse(id).unwrap_or_else(Uuid::nil)
}
