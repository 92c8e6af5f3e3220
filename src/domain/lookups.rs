//! Batched reads by key, for nested fields: the GraphQL layer's DataLoaders
//! call these, so a list with nested objects costs one statement per kind
//! of object, whatever its length. Who may see a row was decided where the
//! key came from (the parent object the caller was allowed to read).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::error::DomainResult;
use crate::entities::{
    customer, invoice, invoice_line, job, job_assignment, job_financials, payment, technician, user,
};

/// `$name(db, keys)`: the rows of `$module` whose `$column` is one of `keys`.
macro_rules! lookup {
    ($(#[$doc:meta])* $name:ident, $module:ident, $column:ident) => {
        $(#[$doc])*
        pub async fn $name(db: &impl ConnectionTrait, keys: &[Uuid]) -> DomainResult<Vec<$module::Model>> {
            Ok($module::Entity::find().filter($module::Column::$column.is_in(keys.iter().copied())).all(db).await?)
        }
    };
    ($(#[$doc:meta])* $name:ident, $module:ident, $column:ident, ordered by $order:ident) => {
        $(#[$doc])*
        pub async fn $name(db: &impl ConnectionTrait, keys: &[Uuid]) -> DomainResult<Vec<$module::Model>> {
            Ok($module::Entity::find()
                .filter($module::Column::$column.is_in(keys.iter().copied()))
                .order_by_asc($module::Column::$order)
                .all(db)
                .await?)
        }
    };
}

lookup!(users, user, Id);
lookup!(technicians, technician, Id);
lookup!(
    /// Technician profiles linked to these logins.
    technicians_of_users, technician, UserId
);
lookup!(customers, customer, Id);
lookup!(jobs, job, Id);
lookup!(assignments_of_jobs, job_assignment, JobId);
lookup!(invoices, invoice, Id);
lookup!(invoices_of_jobs, invoice, JobId);
lookup!(financials_of_jobs, job_financials, JobId);
lookup!(payments, payment, Id);
lookup!(
    /// Invoice lines in invoice order.
    lines_of_invoices, invoice_line, InvoiceId, ordered by Position
);
lookup!(
    /// Payments oldest first.
    payments_of_invoices, payment, InvoiceId, ordered by ReceivedAt
);
