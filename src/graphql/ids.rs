//! GraphQL `ID`s are UUIDs. One policy for a malformed ID: it names nothing,
//! exactly like an unknown one. It is read as the nil UUID, which no row
//! has, and the domain answers it as it answers any id of a missing row,
//! after its permission checks (null for a single-object query, NOT_FOUND
//! for a mutation, FORBIDDEN first where the role may not ask at all).

use async_graphql::ID;
use uuid::Uuid;

pub fn parse(id: &ID) -> Uuid {
    Uuid::parse_str(id.as_str()).unwrap_or_else(|_| Uuid::nil())
}

/// The served form of an id: lower-case hyphenated, written straight into
/// its string (`to_string` goes through the formatter, once per `id` field
/// of every row).
pub fn of(id: Uuid) -> ID {
    ID(spelled(id, &mut [0u8; SPELLED_LENGTH]).to_owned())
}

pub const SPELLED_LENGTH: usize = uuid::fmt::Hyphenated::LENGTH;

/// `of`'s spelling, written into `buffer` (hex digits and hyphens).
pub fn spelled(id: Uuid, buffer: &mut [u8; SPELLED_LENGTH]) -> &str {
    id.hyphenated().encode_lower(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_id_is_one_that_names_nothing() {
        assert_eq!(parse(&ID::from("not-a-uuid")), Uuid::nil());
        let id = Uuid::from_u128(5);
        assert_eq!(parse(&ID::from(id.to_string())), id);
    }

    #[test]
    fn an_id_is_served_as_its_lower_case_hyphenated_text() {
        let id = Uuid::parse_str("6F9619FF-8B86-D011-B42D-00CF4FC964FF").unwrap();
        assert_eq!(of(id), ID::from("6f9619ff-8b86-d011-b42d-00cf4fc964ff"));
        assert_eq!(of(id).as_str(), id.to_string());
    }
}
