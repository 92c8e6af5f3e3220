//! Answers made from values at hand. async-graphql resolves every field of
//! every object through its own boxed future, gathered in a
//! `FuturesUnordered` per object: on the board (50 jobs, each with its
//! customer, technician and assignment, read in one statement) that
//! machinery, not the data, was most of the server's time. When every field
//! a selection asks for is already held (read with the page, no await, no
//! error possible), the object is answered here by one synchronous walk of
//! the selection instead. When any field is not at hand (a loader, an
//! argument, a directive, a fragment on another type, a response key asked
//! twice), the whole value goes the usual way, so this path never answers
//! differently; `tests/at_hand.rs` compares the two on the same data.
//!
//! The walk reads the operation's selection and fragments from the context
//! (`ctx.item`, `ctx.query_env`), which async-graphql leaves public but
//! hidden; `@skip`/`@include` are already applied there.

use std::borrow::Cow;
use std::collections::HashMap;

use async_graphql::indexmap::IndexMap;
use async_graphql::indexmap::map::Entry;
use async_graphql::parser::types::{Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{EnumType, enum_value, resolve_list};
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ScalarType, ServerResult, Value};
use uuid::Uuid;

use super::ids;

/// One field's selection, with the operation's fragments.
#[derive(Clone, Copy)]
pub struct Selected<'a> {
    set: &'a SelectionSet,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
}

impl<'a> Selected<'a> {
    fn of(ctx: &ContextSelectionSet<'a>) -> Self {
        Selected { set: &ctx.item.node, fragments: &ctx.query_env.fragments }
    }

    fn within(self, set: &'a SelectionSet) -> Self {
        Selected { set, ..self }
    }
}

/// An object type some of whose fields can be answered from what it holds.
pub trait FieldsAtHand: OutputType {
    /// The field's answer, `selected` being its own selection; `None` when
    /// it is not at hand. A field with arguments, or one that may fail, is
    /// never at hand.
    fn field_at_hand(&self, name: &str, selected: Selected<'_>) -> Option<Value>;
}

impl<T: FieldsAtHand + ?Sized> FieldsAtHand for &T {
    fn field_at_hand(&self, name: &str, selected: Selected<'_>) -> Option<Value> {
        (**self).field_at_hand(name, selected)
    }
}

impl<T: FieldsAtHand + ?Sized> FieldsAtHand for Box<T> {
    fn field_at_hand(&self, name: &str, selected: Selected<'_>) -> Option<Value> {
        (**self).field_at_hand(name, selected)
    }
}

/// The object's answer to `selected`, or `None` when a field it asks for is
/// not at hand.
pub fn object<T: FieldsAtHand + ?Sized>(object: &T, selected: Selected<'_>) -> Option<Value> {
    let mut fields = IndexMap::with_capacity(selected.set.items.len());
    collect(object, selected, &mut fields)?;
    // async-graphql answers an object with no field left (all skipped) as
    // null; leave that rarity to it.
    (!fields.is_empty()).then_some(Value::Object(fields))
}

/// A nullable object field: `None` (not known here) when the outer option is.
pub fn nullable<T: FieldsAtHand>(known: &Option<T>, selected: Selected<'_>) -> Option<Value> {
    match known {
        Some(value) => object(value, selected),
        None => Some(Value::Null),
    }
}

/// A list of objects, all at hand or none.
pub fn list<T: FieldsAtHand>(items: impl IntoIterator<Item = T>, selected: Selected<'_>) -> Option<Value> {
    items.into_iter().map(|item| object(&item, selected)).collect::<Option<Vec<_>>>().map(Value::List)
}

fn collect<T: FieldsAtHand + ?Sized>(
    object: &T,
    selected: Selected<'_>,
    fields: &mut IndexMap<Name, Value>,
) -> Option<()> {
    for selection in &selected.set.items {
        match &selection.node {
            Selection::Field(field) => {
                let field: &Field = &field.node;
                if !field.directives.is_empty() || !field.arguments.is_empty() {
                    return None;
                }
                let name = field.name.node.as_str();
                let value = if name == "__typename" {
                    Value::String(object.introspection_type_name().into_owned())
                } else {
                    object.field_at_hand(name, selected.within(&field.selection_set.node))?
                };
                // One hash per field. The same key twice is merged by
                // async-graphql; rare enough to leave to it.
                match fields.entry(field.response_key().node.clone()) {
                    Entry::Occupied(_) => return None,
                    Entry::Vacant(slot) => slot.insert(value),
                };
            }
            Selection::FragmentSpread(spread) => {
                let fragment = &selected.fragments.get(&spread.node.fragment_name.node)?.node;
                if !spread.node.directives.is_empty()
                    || !fragment.directives.is_empty()
                    || fragment.type_condition.node.on.node != *object.introspection_type_name()
                {
                    return None;
                }
                collect(object, selected.within(&fragment.selection_set.node), fields)?;
            }
            Selection::InlineFragment(inline) => {
                let inline = &inline.node;
                let applies = inline
                    .type_condition
                    .as_ref()
                    .is_none_or(|condition| condition.node.on.node == *object.introspection_type_name());
                if !inline.directives.is_empty() || !applies {
                    return None;
                }
                collect(object, selected.within(&inline.selection_set.node), fields)?;
            }
        }
    }
    Some(())
}

/// A scalar as async-graphql serves it.
pub fn scalar<T: ScalarType>(value: &T) -> Value {
    value.to_value()
}

pub fn optional<T: ScalarType>(value: &Option<T>) -> Value {
    value.as_ref().map_or(Value::Null, ScalarType::to_value)
}

pub fn text(value: &str) -> Value {
    Value::String(value.to_owned())
}

pub fn optional_text(value: &Option<String>) -> Value {
    value.as_deref().map_or(Value::Null, text)
}

pub fn id(id: Uuid) -> Value {
    Value::String(ids::of(id).0)
}

pub fn enumerated<E: EnumType>(value: impl Into<E>) -> Value {
    enum_value(value.into())
}

/// A list field's value (`[T!]!`): answered here when every item's
/// selection is at hand, else item by item the usual way.
pub struct List<T>(pub Vec<T>);

impl<T> FromIterator<T> for List<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        List(items.into_iter().collect())
    }
}

impl<T: FieldsAtHand> OutputType for List<T> {
    fn type_name() -> Cow<'static, str> {
        Vec::<T>::type_name()
    }

    fn qualified_type_name() -> String {
        Vec::<T>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Vec::<T>::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        let selected = Selected::of(ctx);
        if let Some(answer) = list(self.0.iter(), selected) {
            return Ok(answer);
        }
        resolve_list(ctx, field, &self.0, Some(self.0.len())).await
    }
}

/// An object field's value: answered here when its selection is at hand.
pub struct One<T>(pub T);

impl<T: FieldsAtHand> OutputType for One<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        match object(&self.0, Selected::of(ctx)) {
            Some(answer) => Ok(answer),
            None => self.0.resolve(ctx, field).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::entities::enums::{JobPriority, JobStatus};
    use crate::entities::{customer, job, job_assignment, technician};
    use crate::graphql::types::{Assignment, Customer, Job, Technician};

    fn assignment() -> Assignment {
        let starts_at = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        Assignment(job_assignment::Model {
            id: Uuid::from_u128(7),
            job_id: Uuid::from_u128(8),
            technician_id: Uuid::from_u128(9),
            starts_at,
            ends_at: starts_at + chrono::Duration::hours(2),
            live: true,
            created_at: starts_at,
        })
    }

    /// `of`'s answer to the document's (only) operation, read as its own
    /// selection.
    fn answer_of<T: FieldsAtHand>(of: &T, document: &str) -> Option<Value> {
        let document: ExecutableDocument = parse_query(document).unwrap();
        let DocumentOperations::Single(operation) = &document.operations else { panic!("one operation") };
        let selected = Selected { set: &operation.node.selection_set.node, fragments: &document.fragments };
        object(of, selected)
    }

    fn answer(document: &str) -> Option<Value> {
        answer_of(&assignment(), document)
    }

    /// A board's job: its card, its assignment, and its parties' cards as
    /// the page read them.
    fn board_job() -> Job {
        let card = job::Card {
            id: Uuid::from_u128(8),
            customer_id: Uuid::from_u128(1),
            title: "Boiler".into(),
            status: JobStatus::Scheduled,
            priority: JobPriority::High,
            created_at: assignment().0.created_at,
        };
        let mut job = Job::card_with_assignment((card, Some(assignment().0)));
        job.customer = Some(Customer::card(customer::Card {
            id: Uuid::from_u128(1),
            name: "Carla".into(),
            email: None,
            phone: None,
            address: Some("1 Main St".into()),
        }));
        let technician =
            technician::Card { id: Uuid::from_u128(9), name: "Tess".into(), email: None, phone: Some("555".into()) };
        job.technician = Some(Some(Technician::card(technician)));
        job
    }

    const BOARD: &str =
        "{ id title status customer { id name address } technician { id name } assignment { startsAt endsAt } }";

    #[test]
    fn the_boards_selection_is_answered_at_hand() {
        let answer = answer_of(&board_job(), BOARD).expect("everything the board asks is held");
        let Value::Object(fields) = &answer else { panic!("an object: {answer}") };
        assert_eq!(keys(&answer), ["id", "title", "status", "customer", "technician", "assignment"]);
        assert_eq!(fields["status"], Value::Enum(Name::new("SCHEDULED")));
        assert_eq!(keys(&fields["customer"]), ["id", "name", "address"]);
        assert_eq!(keys(&fields["technician"]), ["id", "name"]);
    }

    #[test]
    fn a_field_beyond_what_was_read_is_not_at_hand() {
        // Beyond the card (the whole row is loaded), and parties not preloaded.
        assert_eq!(answer_of(&board_job(), "{ id description }"), None);
        let mut alone = board_job();
        alone.customer = None;
        assert_eq!(answer_of(&alone, BOARD), None);
        alone = board_job();
        alone.technician = None;
        assert_eq!(answer_of(&alone, BOARD), None);
        // Known to have no technician: null, at hand.
        alone = board_job();
        alone.technician = Some(None);
        let answer = answer_of(&alone, BOARD).expect("held");
        let Value::Object(fields) = &answer else { unreachable!() };
        assert_eq!(fields["technician"], Value::Null);
    }

    fn keys(value: &Value) -> Vec<String> {
        let Value::Object(fields) = value else { panic!("an object: {value}") };
        fields.keys().map(|key| key.to_string()).collect()
    }

    #[test]
    fn fields_at_hand_answer_in_the_selections_order_under_their_aliases() {
        let answer = answer("{ endsAt id from: startsAt __typename }").expect("all at hand");
        assert_eq!(keys(&answer), ["endsAt", "id", "from", "__typename"]);
        let Value::Object(fields) = &answer else { unreachable!() };
        assert_eq!(fields["id"], Value::String("00000000-0000-0000-0000-000000000007".into()));
        assert_eq!(fields["from"], scalar(&assignment().0.starts_at), "served as async-graphql serves it");
        assert_eq!(fields["__typename"], Value::String("Assignment".into()));
    }

    #[test]
    fn fragments_on_the_type_itself_are_followed() {
        let answer = answer("{ ...F ... on Assignment { endsAt } ... { x: id } } fragment F on Assignment { id }")
            .expect("fragments on Assignment");
        assert_eq!(keys(&answer), ["id", "endsAt", "x"]);
    }

    #[test]
    fn anything_else_is_left_to_async_graphql() {
        for document in [
            "{ id job { id } }",                           // a loader
            "{ id technician { name } }",                  // a loader
            "{ id id }",                                   // a key asked twice (merged there)
            "{ id ... on Job { title } }",                 // a fragment on another type
            "{ ...F } fragment F on Job { id }",           // the same, spread
            "{ id @skip(if: false) }",                     // a directive left in place
            "{ ... @include(if: true) { id } }",           // on a fragment
            "{ ...F } fragment F on Assignment @x { id }", // on a fragment's definition
            "{ ...Missing }",                              // an unknown fragment
            "{ id nothing }",                              // no such field
        ] {
            assert_eq!(answer(document), None, "{document}");
        }
    }
}
