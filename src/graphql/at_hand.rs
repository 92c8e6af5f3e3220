//! Answers made from values at hand. async-graphql resolves every field of
//! every object through its own boxed future, gathered in a
//! `FuturesUnordered` per object: on the board (50 jobs, each with its
//! customer, technician and assignment, read in one statement) that
//! machinery, not the data, was most of the server's time. When every field
//! a selection asks for is already held (read with the page, no await, no
//! error possible), the object is answered here by one synchronous walk of
//! the selection instead, written straight as JSON text (`json.rs`). When
//! any field is not at hand (a loader, an argument, a directive, a fragment
//! on another type, a response key asked twice), the whole value goes the
//! usual way, so this path never answers differently; `tests/at_hand.rs`
//! compares the two on the same data.
//!
//! The walk reads the operation's selection and fragments from the context
//! (`ctx.item`, `ctx.query_env`), which async-graphql leaves public but
//! hidden; `@skip`/`@include` are already applied there.

use std::borrow::Cow;
use std::collections::HashMap;

use async_graphql::parser::types::{Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{EnumType, enum_value, resolve_list};
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ScalarType, ServerResult, Value};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ids, json};

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
    /// Writes the field's answer, `selected` being its own selection; `None`
    /// when it is not at hand (what it wrote is then thrown away). A field
    /// with arguments, or one that may fail, is never at hand.
    fn field_at_hand(&self, name: &str, selected: Selected<'_>, out: &mut Written) -> Option<()>;
}

impl<T: FieldsAtHand + ?Sized> FieldsAtHand for &T {
    fn field_at_hand(&self, name: &str, selected: Selected<'_>, out: &mut Written) -> Option<()> {
        (**self).field_at_hand(name, selected, out)
    }
}

impl<T: FieldsAtHand + ?Sized> FieldsAtHand for Box<T> {
    fn field_at_hand(&self, name: &str, selected: Selected<'_>, out: &mut Written) -> Option<()> {
        (**self).field_at_hand(name, selected, out)
    }
}

/// An answer being written as JSON text (`json.rs`), as async-graphql would
/// serve it.
#[derive(Default)]
pub struct Written(Vec<u8>);

/// Room made up front per object (a board's job with its parties is about
/// 250 bytes), so that a page is rarely copied while it grows.
const BYTES_PER_OBJECT: usize = 256;

/// How many response keys one object may have here (beyond them, the
/// object is left to async-graphql).
const MOST_KEYS: usize = 32;

impl Written {
    /// The object's answer to `selected`; `None` (nothing written) when a
    /// field it asks for is not at hand.
    pub fn object<T: FieldsAtHand + ?Sized>(&mut self, object: &T, selected: Selected<'_>) -> Option<()> {
        let start = self.0.len();
        self.0.push(b'{');
        let mut keys = Keys { seen: [""; MOST_KEYS], count: 0 };
        // async-graphql answers an object with no field left (all skipped)
        // as null; leave that rarity to it.
        if self.fields(object, selected, &mut keys).is_none() || keys.count == 0 {
            self.0.truncate(start);
            return None;
        }
        self.0.push(b'}');
        Some(())
    }

    /// A nullable object field: `None` (not known here) when the outer
    /// option is.
    pub fn nullable<T: FieldsAtHand>(&mut self, known: &Option<T>, selected: Selected<'_>) -> Option<()> {
        match known {
            Some(value) => self.object(value, selected),
            None => {
                self.null();
                Some(())
            }
        }
    }

    /// A list of objects, all at hand or none.
    pub fn list<T: FieldsAtHand>(&mut self, items: impl IntoIterator<Item = T>, selected: Selected<'_>) -> Option<()> {
        let start = self.0.len();
        self.0.push(b'[');
        for (at, item) in items.into_iter().enumerate() {
            if at > 0 {
                self.0.push(b',');
            }
            if self.object(&item, selected).is_none() {
                self.0.truncate(start);
                return None;
            }
        }
        self.0.push(b']');
        Some(())
    }

    fn fields<'s, T: FieldsAtHand + ?Sized>(
        &mut self,
        object: &T,
        selected: Selected<'s>,
        keys: &mut Keys<'s>,
    ) -> Option<()> {
        for selection in &selected.set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field: &'s Field = &field.node;
                    if !field.directives.is_empty() || !field.arguments.is_empty() {
                        return None;
                    }
                    // The same key twice is merged by async-graphql; rare
                    // enough to leave to it.
                    let key = field.response_key().node.as_str();
                    keys.add(key)?;
                    if keys.count > 1 {
                        self.0.push(b',');
                    }
                    json::key(&mut self.0, key);
                    let name = field.name.node.as_str();
                    if name == "__typename" {
                        self.text(&object.introspection_type_name());
                    } else {
                        object.field_at_hand(name, selected.within(&field.selection_set.node), self)?;
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = &selected.fragments.get(&spread.node.fragment_name.node)?.node;
                    if !spread.node.directives.is_empty()
                        || !fragment.directives.is_empty()
                        || fragment.type_condition.node.on.node != *object.introspection_type_name()
                    {
                        return None;
                    }
                    self.fields(object, selected.within(&fragment.selection_set.node), keys)?;
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
                    self.fields(object, selected.within(&inline.selection_set.node), keys)?;
                }
            }
        }
        Some(())
    }

    /// A scalar as async-graphql serves it.
    pub fn scalar<T: ScalarType>(&mut self, value: &T) {
        json::value(&mut self.0, &value.to_value(), usize::MAX);
    }

    pub fn optional<T: ScalarType>(&mut self, value: &Option<T>) {
        self.or_null(value.as_ref(), Self::scalar);
    }

    /// `write` for a value, `null` for none.
    fn or_null<T: ?Sized>(&mut self, value: Option<&T>, write: impl FnOnce(&mut Self, &T)) {
        match value {
            Some(value) => write(self, value),
            None => self.null(),
        }
    }

    /// A `DateTime!` (as `scalar` would write it, without its string).
    pub fn datetime(&mut self, value: &DateTime<Utc>) {
        json::rfc3339(&mut self.0, value);
    }

    pub fn optional_datetime(&mut self, value: &Option<DateTime<Utc>>) {
        self.or_null(value.as_ref(), Self::datetime);
    }

    pub fn text(&mut self, value: &str) {
        json::string(&mut self.0, value);
    }

    pub fn optional_text(&mut self, value: &Option<String>) {
        self.or_null(value.as_deref(), Self::text);
    }

    /// An `ID!` as `ids::of` spells it (nothing in it to escape).
    pub fn id(&mut self, id: Uuid) {
        self.0.push(b'"');
        self.0.extend_from_slice(ids::spelled(id, &mut [0u8; ids::SPELLED_LENGTH]).as_bytes());
        self.0.push(b'"');
    }

    /// An enum value by its GraphQL name.
    pub fn enumerated<E: EnumType>(&mut self, value: impl Into<E>) {
        let value = value.into();
        match E::items().iter().find(|item| item.value == value) {
            Some(item) => self.text(item.name),
            // Every value of a GraphQL enum is one of its items.
            None => json::value(&mut self.0, &enum_value(value), usize::MAX).unwrap_or_default(),
        }
    }

    pub fn null(&mut self) {
        self.0.extend_from_slice(b"null");
    }

    /// The answer written, as it goes into the response.
    fn into_value(self, ctx: &ContextSelectionSet<'_>) -> ServerResult<Value> {
        json::written(ctx, self.0)
    }
}

/// The response keys of one object so far.
struct Keys<'s> {
    seen: [&'s str; MOST_KEYS],
    count: usize,
}

impl<'s> Keys<'s> {
    /// `None` when the key was seen already, or there are too many.
    fn add(&mut self, key: &'s str) -> Option<()> {
        if self.count == MOST_KEYS || self.seen[..self.count].contains(&key) {
            return None;
        }
        self.seen[self.count] = key;
        self.count += 1;
        Some(())
    }
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
        let mut out = Written(Vec::with_capacity(self.0.len() * BYTES_PER_OBJECT));
        if out.list(self.0.iter(), Selected::of(ctx)).is_some() {
            return out.into_value(ctx);
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
        let mut out = Written(Vec::with_capacity(4 * BYTES_PER_OBJECT));
        match out.object(&self.0, Selected::of(ctx)) {
            Some(()) => out.into_value(ctx),
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
    use crate::entities::positional::Unread;
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
        let mut out = Written::default();
        out.object(of, selected)?;
        Some(serde_json::from_slice(&out.0).expect("written JSON"))
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
        let carla = customer::Card {
            id: Uuid::from_u128(1),
            name: "Carla".into(),
            email: None,
            phone: None,
            address: Some("1 Main St".into()),
        };
        job.customer = Some(Customer::card(carla, Unread::NONE));
        let technician =
            technician::Card { id: Uuid::from_u128(9), name: "Tess".into(), email: None, phone: Some("555".into()) };
        job.technician = Some(Some(Technician::card(technician, Unread::NONE)));
        job
    }

    const BOARD: &str =
        "{ id title status customer { id name address } technician { id name } assignment { startsAt endsAt } }";

    #[test]
    fn the_boards_selection_is_answered_at_hand() {
        let answer = answer_of(&board_job(), BOARD).expect("everything the board asks is held");
        let Value::Object(fields) = &answer else { panic!("an object: {answer}") };
        assert_eq!(keys(&answer), ["id", "title", "status", "customer", "technician", "assignment"]);
        assert_eq!(fields["status"], Value::String("SCHEDULED".into()));
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

    #[test]
    fn a_field_left_unread_is_not_at_hand() {
        let mut job = board_job();
        let unread = Unread::fields(&["email", "phone"]).expect("nullable fields of the card");
        let Some(Some(tess)) = job.technician.take() else { unreachable!() };
        let Some(Value::Object(read)) = answer_of(&tess, "{ id name email phone }") else { panic!("all read") };
        assert_eq!(read["phone"], Value::String("555".into()));
        let card =
            technician::Card { id: Uuid::from_u128(9), name: "Tess".into(), email: None, phone: Some("555".into()) };
        job.technician = Some(Some(Technician::card(card, unread)));
        let Some(Some(tess)) = &job.technician else { unreachable!() };
        assert!(answer_of(tess, "{ id name }").is_some(), "read fields are at hand");
        assert_eq!(answer_of(tess, "{ id name phone }"), None, "an unread field is not answered as null");
        assert_eq!(answer_of(tess, "{ email }"), None);
        assert!(answer_of(&job, BOARD).is_some(), "the board asks for neither");
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
        assert_eq!(fields["from"], assignment().0.starts_at.to_value(), "served as async-graphql serves it");
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
