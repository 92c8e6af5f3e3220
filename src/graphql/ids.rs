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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_id_is_one_that_names_nothing() {
        assert_eq!(parse(&ID::from("not-a-uuid")), Uuid::nil());
        let id = Uuid::from_u128(5);
        assert_eq!(parse(&ID::from(id.to_string())), id);
    }
}
