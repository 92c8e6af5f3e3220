//! Input scalars inside input objects, read by the resolver rather than by
//! async-graphql. async-graphql names only the input type when a scalar in
//! it cannot be read (`amount: "abc"` fails "while parsing
//! RecordPaymentInput"); read here, the error is BAD_USER_INPUT with
//! `extensions.field`, as the contract asks. The schema is unchanged: the
//! wrapper registers and names itself as the scalar it wraps.

use std::borrow::Cow;

use async_graphql::registry::Registry;
use async_graphql::{InputType, InputValueResult, Pos, Value};

use crate::domain::{DomainError, DomainResult};

pub struct Lenient<T> {
    parsed: Result<T, String>,
}

impl<T> Lenient<T> {
    /// The value, or BAD_USER_INPUT naming `field`.
    pub fn read(self, field: &'static str) -> DomainResult<T> {
        self.parsed.map_err(|reason| DomainError::bad_input(field, format!("{field}: {reason}")))
    }
}

impl<T: InputType> InputType for Lenient<T> {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let parsed = T::parse(value).map_err(|err| err.into_server_error(Pos::default()).message);
        Ok(Lenient { parsed })
    }

    fn to_value(&self) -> Value {
        self.parsed.as_ref().map_or(Value::Null, InputType::to_value)
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

/// `Option<Lenient<T>>` read the same way: absent stays absent.
pub fn read_optional<T>(value: Option<Lenient<T>>, field: &'static str) -> DomainResult<Option<T>> {
    value.map(|v| v.read(field)).transpose()
}

/// An optional input field of an update, as the domain reads it: absent
/// (unchanged), null (cleared) or a value.
pub fn patch<T: async_graphql::InputType>(
    field: async_graphql::MaybeUndefined<T>,
) -> crate::domain::location::Patch<T> {
    match field {
        async_graphql::MaybeUndefined::Undefined => crate::domain::location::Patch::Absent,
        async_graphql::MaybeUndefined::Null => crate::domain::location::Patch::Null,
        async_graphql::MaybeUndefined::Value(value) => crate::domain::location::Patch::Value(value),
    }
}
