//! Rows of joined tables decoded by column position.
//!
//! SeaORM's `find_also_related` decodes each column of each model through a
//! `format!`-built alias looked up by name: on the dispatch board (51 rows of
//! four models) that was a quarter of the server's time. Here the columns of
//! each model are selected in the model's field order and read by index.
//!
//! `positional!` in each entity file lists the fields once; a unit test
//! holds that list equal to the entity's columns, so a new column cannot be
//! read from the wrong place.

use sea_orm::sea_query::{Expr, IntoIden};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, FromQueryResult, Iterable, QueryResult, QuerySelect};
use uuid::Uuid;

/// A model or a tuple of them read from consecutive columns.
pub trait ReadAt: Sized {
    /// How many columns it takes.
    const WIDTH: usize;
    fn read_at(row: &QueryResult, at: usize) -> Result<Self, DbErr>;
}

/// A model whose fields `positional!` lists, in the order of its columns.
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

            #[allow(unused_assignments)]
            fn read_at(row: &sea_orm::QueryResult, at: usize) -> Result<Self, sea_orm::DbErr> {
                let mut next = at;
                Ok(Model {
                    $($field: {
                        let value = row.try_get_by_index(next)?;
                        next += 1;
                        value
                    },)+
                })
            }
        }
    };
}
pub(crate) use positional;

/// A left-joined model: None when its `id` is NULL (no row joined).
impl<M: Positional> ReadAt for Option<M> {
    const WIDTH: usize = M::WIDTH;

    fn read_at(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        match row.try_get_by_index::<Option<Uuid>>(at)? {
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

/// A whole result row read by position (for `Select::into_model`).
pub struct Row<T>(pub T);

impl<T: ReadAt> FromQueryResult for Row<T> {
    fn from_query_result(row: &QueryResult, _prefix: &str) -> Result<Self, DbErr> {
        T::read_at(row, 0).map(Row)
    }
}

/// Appends the columns of `M`'s table, qualified by table, in `M`'s field
/// order (as SeaORM would select them: enum columns cast for reading).
pub fn select_columns<M: Positional, S: QuerySelect>(mut select: S) -> S {
    let table = <M::Entity as Default>::default().into_iden();
    for column in <M::Entity as EntityTrait>::Column::iter() {
        select = select.expr(column.select_as(Expr::col((table.clone(), column))));
    }
    select
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, IdenStatic, Iterable};

    use super::Positional;
    use crate::entities::{customer, invoice, job, job_assignment, schedule, technician};

    fn columns_in_field_order<M: Positional>() {
        let columns: Vec<String> = <M::Entity as EntityTrait>::Column::iter().map(|c| c.as_str().to_owned()).collect();
        assert_eq!(M::FIELDS, columns, "positional! must list the model's fields in column order");
        assert_eq!(M::FIELDS[0], "id", "a left-joined model is told absent by its id");
    }

    #[test]
    fn every_positional_model_reads_its_columns_in_order() {
        columns_in_field_order::<job::Model>();
        columns_in_field_order::<job_assignment::Model>();
        columns_in_field_order::<customer::Model>();
        columns_in_field_order::<technician::Model>();
        columns_in_field_order::<invoice::Model>();
        columns_in_field_order::<schedule::Model>();
    }
}
