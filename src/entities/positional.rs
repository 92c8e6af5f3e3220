//! Rows of joined tables decoded by column position.
//!
//! SeaORM's `find_also_related` decodes each column of each model through a
//! `format!`-built alias looked up by name: on the dispatch board (51 rows of
//! four models) that was a quarter of the server's time. Here the columns of
//! each model are selected in the model's field order and read by index.
//!
//! `positional!` in each entity file lists the fields once; a unit test
//! holds that list equal to the entity's columns, so a new column cannot be
//! read from the wrong place. `card!` defines a model's card: the few
//! columns a list shows, read alone (the board needs 6 of a job's 13).

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, IntoIden};
use sea_orm::sqlx;
use sea_orm::sqlx::postgres::PgValueFormat;
use sea_orm::{DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable, QueryResult, QuerySelect};
use uuid::Uuid;

use super::enums::{InvoiceLineKind, InvoiceStatus, JobPriority, JobStatus, PaymentMethod, ScheduleKind};

/// A model or a tuple of them read from consecutive columns.
pub trait ReadAt: Sized {
    /// How many columns it takes.
    const WIDTH: usize;
    fn read_at(row: &QueryResult, at: usize) -> Result<Self, DbErr>;
}

/// A model (or a card of it) whose fields are listed in reading order;
/// each is a column of `Entity`.
pub trait Positional: ReadAt {
    type Entity: EntityTrait;
    /// The field names, in reading order (the first is the `id`).
    const FIELDS: &'static [&'static str];
}

/// Defines `ReadAt` for an entity's model from its field list.
macro_rules! positional {
    ($($field:ident),+ $(,)?) => {
        impl $crate::entities::positional::Positional for Model {
            type Entity = Entity;
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];
        }

        impl $crate::entities::positional::ReadAt for Model {
            const WIDTH: usize = <Self as $crate::entities::positional::Positional>::FIELDS.len();

            #[allow(unused_assignments)] // the last field's `next += 1`
            fn read_at(row: &sea_orm::QueryResult, at: usize) -> Result<Self, sea_orm::DbErr> {
                $crate::entities::positional::read_fields!(Model, row, at, $($field),+)
            }
        }
    };
}
pub(crate) use positional;

/// Defines a card of an entity's model: a struct of some of its columns,
/// read alone and by position.
macro_rules! card {
    ($(#[$meta:meta])* $card:ident { $($field:ident: $type:ty),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $card {
            $(pub $field: $type,)+
        }

        impl $crate::entities::positional::Positional for $card {
            type Entity = Entity;
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];
        }

        impl $crate::entities::positional::ReadAt for $card {
            const WIDTH: usize = <Self as $crate::entities::positional::Positional>::FIELDS.len();

            #[allow(unused_assignments)] // the last field's `next += 1`
            fn read_at(row: &sea_orm::QueryResult, at: usize) -> Result<Self, sea_orm::DbErr> {
                $crate::entities::positional::read_fields!($card, row, at, $($field),+)
            }
        }
    };
}
pub(crate) use card;

/// `$ty { field: column at, field: column at + 1, … }`.
macro_rules! read_fields {
    ($ty:ident, $row:expr, $at:expr, $($field:ident),+) => {{
        let mut next = $at;
        Ok($ty {
            $($field: {
                let value = $crate::entities::positional::ColumnValue::read($row, next)?;
                next += 1;
                value
            },)+
        })
    }};
}
pub(crate) use read_fields;

/// A column's value, read by position.
///
/// On PostgreSQL the plain types are decoded straight from the row, without
/// sqlx's check of the column's type against the Rust type on every value:
/// that check was half of the board's decoding (its 51 rows of 12 columns).
/// The types are fixed by the migrations, and every shape read here is read
/// by the tests on PostgreSQL, where a mismatch fails to decode. On SQLite
/// every type is read through SeaORM.
pub trait ColumnValue: Sized {
    fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr>;
}

macro_rules! decoded_straight {
    ($($type:ty),+ $(,)?) => {$(
        impl ColumnValue for $type {
            fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                match row.try_as_pg_row() {
                    Some(row) => sqlx::Row::try_get_unchecked::<$type, _>(row, at)
                        .map_err(|err| DbErr::Type(format!("column {at}: {err}"))),
                    None => row.try_get_by_index(at),
                }
            }
        }
    )+};
}
decoded_straight!(Uuid, Option<Uuid>, String, Option<String>, i64, i32, bool, f64, Option<f64>,);

/// A `timestamptz` on PostgreSQL: microseconds since 2000-01-01 UTC, read
/// from its 8 bytes. sqlx's decoding goes through chrono's calendar
/// arithmetic (about a thousand instructions a value; a week has a
/// hundred of them).
impl ColumnValue for Option<DateTime<Utc>> {
    fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        let Some(pg) = row.try_as_pg_row() else { return row.try_get_by_index(at) };
        let value = sqlx::Row::try_get_raw(pg, at).map_err(|err| DbErr::Type(format!("column {at}: {err}")))?;
        if sqlx::ValueRef::is_null(&value) {
            return Ok(None);
        }
        if value.format() == PgValueFormat::Binary
            && let Some(micros) = value.as_bytes().ok().and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        {
            return from_postgres_micros(i64::from_be_bytes(micros))
                .map(Some)
                .ok_or_else(|| DbErr::Type(format!("column {at}: a time out of range")));
        }
        sqlx::Row::try_get_unchecked::<Option<DateTime<Utc>>, _>(pg, at)
            .map_err(|err| DbErr::Type(format!("column {at}: {err}")))
    }
}

impl ColumnValue for DateTime<Utc> {
    fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        <Option<DateTime<Utc>>>::read(row, at)?.ok_or_else(|| DbErr::Type(format!("column {at}: unexpected NULL")))
    }
}

/// PostgreSQL's epoch (2000-01-01 UTC) in Unix microseconds.
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

fn from_postgres_micros(micros: i64) -> Option<DateTime<Utc>> {
    micros.checked_add(POSTGRES_EPOCH_MICROS).and_then(DateTime::from_timestamp_micros)
}

/// Enums are stored as TEXT: read as text, spelled back by `from_stored`.
macro_rules! stored_text {
    ($($type:ident),+ $(,)?) => {$(
        impl ColumnValue for $type {
            fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                let Some(pg) = row.try_as_pg_row() else { return row.try_get_by_index(at) };
                let text = sqlx::Row::try_get_unchecked::<&str, _>(pg, at)
                    .map_err(|err| DbErr::Type(format!("column {at}: {err}")))?;
                $type::from_stored(text)
                    .ok_or_else(|| DbErr::Type(format!("column {at}: {text:?} is no {}", stringify!($type))))
            }
        }
    )+};
}
stored_text!(InvoiceLineKind, InvoiceStatus, JobPriority, JobStatus, PaymentMethod, ScheduleKind);

/// A left-joined model: None when its `id` is NULL (no row joined).
impl<M: Positional> ReadAt for Option<M> {
    const WIDTH: usize = M::WIDTH;

    fn read_at(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        match <Option<Uuid>>::read(row, at)? {
            None => Ok(None),
            Some(_) => M::read_at(row, at).map(Some),
        }
    }
}

macro_rules! tuple_read_at {
    ($($part:ident),+) => {
        impl<$($part: ReadAt),+> ReadAt for ($($part,)+) {
            const WIDTH: usize = 0 $(+ $part::WIDTH)+;

            #[allow(unused_assignments)]
            fn read_at(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                let mut next = at;
                Ok(($({
                    let value = $part::read_at(row, next)?;
                    next += $part::WIDTH;
                    value
                },)+))
            }
        }
    };
}
tuple_read_at!(A, B);
tuple_read_at!(A, B, C);
tuple_read_at!(A, B, C, D);
tuple_read_at!(A, B, C, D, E);
tuple_read_at!(A, B, C, D, E, F, G);

/// A whole result row read by position (for `Select::into_model`).
pub struct Row<T>(pub T);

impl<T: ReadAt> FromQueryResult for Row<T> {
    fn from_query_result(row: &QueryResult, _prefix: &str) -> Result<Self, DbErr> {
        T::read_at(row, 0).map(Row)
    }
}

/// Appends the columns of `M`'s fields, qualified by table, in `M`'s field
/// order. SeaORM's `select_as` (which casts a database enum to text) is
/// left out: every enum here is stored as TEXT, so it changed nothing, and
/// asking it built each column's definition on every read (a tenth of the
/// job detail's instructions). A unit test holds that it changes nothing.
pub fn select_columns<M: Positional, S: QuerySelect>(select: S) -> S {
    select_columns_but::<M, S>(select, Unread::NONE)
}

/// Fields of a card left unread: selected as NULL, because whoever asked
/// for the rows does not show them (a board shows a customer's name and
/// address, not its email and phone). They read as `None`; the reader keeps
/// this set with the card, so that a field left unread is never taken for
/// an empty one. Only nullable fields other than the `id` may be left
/// unread (`fields` refuses the others).
pub struct Unread<M> {
    bits: u32,
    of: PhantomData<fn() -> M>,
}

impl<M> Clone for Unread<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for Unread<M> {}

impl<M> PartialEq for Unread<M> {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}

impl<M> std::fmt::Debug for Unread<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Unread({:#b})", self.bits)
    }
}

impl<M> Default for Unread<M> {
    fn default() -> Self {
        Unread::NONE
    }
}

impl<M> Unread<M> {
    /// Every field read.
    pub const NONE: Unread<M> = Unread { bits: 0, of: PhantomData };
}

impl<M: Positional> Unread<M> {
    /// The set as bits, one per field in reading order (for keys).
    pub fn bits(self) -> u32 {
        self.bits
    }

    /// Whether the field is left unread.
    pub fn has(self, field: &str) -> bool {
        self.bits != 0 && bit_of::<M>(field).is_some_and(|bit| self.bits & bit != 0)
    }
}

/// The bit of `M`'s field `field` (its place in reading order).
fn bit_of<M: Positional>(field: &str) -> Option<u32> {
    let at = M::FIELDS.iter().position(|known| *known == field)?;
    1u32.checked_shl(u32::try_from(at).ok()?)
}

impl<M: Nullable> Unread<M> {
    /// These of `M`'s fields; `None` when one is not a nullable field of
    /// `M` (the `id` never is).
    pub fn fields(fields: &[&str]) -> Option<Unread<M>> {
        fields.iter().try_fold(Unread::NONE, |unread, field| {
            let bit = bit_of::<M>(field).filter(|&bit| bit != 1)?;
            M::NULLABLE.contains(field).then_some(Unread { bits: unread.bits | bit, of: PhantomData })
        })
    }
}

/// A card whose nullable fields are listed (those `Unread` may leave out).
pub trait Nullable: Positional {
    const NULLABLE: &'static [&'static str];
}

/// As `select_columns`, with the `unread` fields selected as NULL (in their
/// place, so the card is read by position as ever).
pub fn select_columns_but<M: Positional, S: QuerySelect>(mut select: S, unread: Unread<M>) -> S {
    let table = <M::Entity as Default>::default().into_iden();
    for column in columns_of::<M>() {
        select = if unread.has(column.as_str()) {
            select.expr(Expr::cust("NULL"))
        } else {
            select.expr(Expr::col((table.clone(), column)))
        };
    }
    select
}

/// Appends one NULL per column `T` reads (a model, or a tuple of them): a
/// branch of a UNION that has no `T` (read back as `None`, its `id` being
/// NULL; PostgreSQL types each NULL from another branch's column).
pub fn select_nulls<T: ReadAt, S: QuerySelect>(mut select: S) -> S {
    for _ in 0..T::WIDTH {
        select = select.expr(Expr::cust("NULL"));
    }
    select
}

/// `M`'s fields as columns of its entity.
fn columns_of<M: Positional>() -> impl Iterator<Item = <M::Entity as EntityTrait>::Column> {
    // A field that names no column fails every test that reads `M` (and the
    // unit test below), never silently.
    <M::Entity as EntityTrait>::Column::iter().filter(|column| M::FIELDS.contains(&column.as_str()))
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, IdenStatic, Iterable};

    use sea_orm::ColumnTrait;
    use sea_orm::sea_query::{Expr, IntoIden};

    use super::{Positional, columns_of};
    use crate::entities::{customer, invoice, invoice_line, job, job_assignment, payment, schedule, technician};

    /// What `select_columns` selects is what `read_at` reads, in order.
    fn reads_its_columns_in_order<M: Positional>() {
        selects_as_stored::<M>();
        let selected: Vec<&str> = columns_of::<M>().map(|c| c.as_str()).collect();
        assert_eq!(M::FIELDS, selected, "the fields must be columns, listed in column order");
        assert_eq!(M::FIELDS[0], "id", "a left-joined model is told absent by its id");
    }

    /// SeaORM would select each column as it is (no enum cast).
    fn selects_as_stored<M: Positional>() {
        let table = <M::Entity as Default>::default().into_iden();
        for column in columns_of::<M>() {
            let plain = Expr::col((table.clone(), column));
            assert_eq!(column.select_as(plain.clone()), plain, "{} is selected as stored", column.as_str());
        }
    }

    fn reads_every_column<M: Positional>() {
        selects_as_stored::<M>();
        reads_its_columns_in_order::<M>();
        let columns: Vec<&str> = <M::Entity as EntityTrait>::Column::iter().map(|c| c.as_str()).collect();
        assert_eq!(M::FIELDS, columns, "positional! must list every column of the model");
    }

    #[test]
    fn every_positional_model_reads_its_columns_in_order() {
        reads_every_column::<job::Model>();
        reads_every_column::<job_assignment::Model>();
        reads_every_column::<customer::Model>();
        reads_every_column::<technician::Model>();
        reads_every_column::<invoice::Model>();
        reads_every_column::<schedule::Model>();
        reads_every_column::<invoice_line::Model>();
        reads_every_column::<payment::Model>();
    }

    #[test]
    fn postgres_times_count_from_2000() {
        use chrono::{TimeZone, Utc};

        use super::from_postgres_micros;
        assert_eq!(from_postgres_micros(0), Some(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap()));
        let before = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap() + chrono::Duration::microseconds(999_999);
        assert_eq!(from_postgres_micros(-1), Some(before));
        let later = Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0).unwrap() + chrono::Duration::microseconds(123_456);
        assert_eq!(from_postgres_micros(later.timestamp_micros() - 946_684_800_000_000), Some(later));
        assert_eq!(from_postgres_micros(i64::MAX), None, "infinity is out of range");
    }

    #[test]
    fn only_nullable_fields_other_than_the_id_may_be_left_unread() {
        use super::{Nullable, Unread};
        fn nullable_are_fields<M: Nullable>() {
            assert!(M::NULLABLE.iter().all(|field| M::FIELDS[1..].contains(field)), "{:?}", M::NULLABLE);
            // One word: named alike in the schema (`preload::unread` compares them).
            assert!(M::NULLABLE.iter().all(|field| !field.contains('_')), "{:?}", M::NULLABLE);
        }
        nullable_are_fields::<customer::Card>();
        nullable_are_fields::<technician::Card>();
        let unread = Unread::<customer::Card>::fields(&["email", "address"]).expect("nullable");
        assert!(unread.has("email") && unread.has("address"));
        assert!(!unread.has("phone") && !unread.has("name") && !unread.has("id") && !unread.has("nothing"));
        assert_eq!(Unread::<customer::Card>::fields(&[]), Some(Unread::NONE));
        for refused in [&["id"][..], &["name"], &["email", "latitude"], &["nothing"]] {
            assert_eq!(Unread::<customer::Card>::fields(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn a_field_left_unread_is_selected_as_null_in_its_place() {
        use sea_orm::{DbBackend, QuerySelect, QueryTrait};

        use super::{Unread, select_columns, select_columns_but};
        let unread = Unread::<technician::Card>::fields(&["email"]).expect("nullable");
        let sql = |select: sea_orm::Select<technician::Entity>| select.build(DbBackend::Postgres).to_string();
        let base = || technician::Entity::find().select_only();
        assert_eq!(
            sql(select_columns_but::<technician::Card, _>(base(), unread)),
            r#"SELECT "technicians"."id", "technicians"."name", NULL, "technicians"."phone" FROM "technicians""#
        );
        assert_eq!(
            sql(select_columns_but::<technician::Card, _>(base(), Unread::NONE)),
            sql(select_columns::<technician::Card, _>(base()))
        );
    }

    #[test]
    fn every_card_reads_its_columns_in_order() {
        reads_its_columns_in_order::<job::Card>();
        reads_its_columns_in_order::<customer::Card>();
        reads_its_columns_in_order::<technician::Card>();
    }
}
