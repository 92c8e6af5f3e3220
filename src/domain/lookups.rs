//! Batched reads by key, for nested fields: the GraphQL layer's DataLoaders
//! call these, so a list with nested objects costs one statement per kind
//! of object, whatever its length. Each takes the caller: rows the caller
//! may not see (`access.rs`) are never read, whichever field asked. For the
//! rest, the key came from a parent object the caller was allowed to read.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use chrono::{DateTime, Utc};

use super::access;
use super::actor::Actor;
use super::error::DomainResult;
use super::schedules::{self, EntryWithJob, UpcomingWithJob};
use crate::entities::{
    customer, invoice, invoice_line, job, job_assignment, job_financials, payment, technician, user,
};

/// Nothing is hidden from a caller who reached the parent.
fn anyone(_: &Actor) -> bool {
    true
}

/// `$name(db, viewer, keys)`: the rows of `$module` whose `$column` is one
/// of `keys` (in `$order`), none when `$rule` says the viewer may not see
/// that kind of row.
macro_rules! lookup {
    ($(#[$doc:meta])* $name:ident, $module:ident, $column:ident, seen by $rule:path $(, ordered by $order:ident)?) => {
        $(#[$doc])*
        pub async fn $name(
            db: &impl ConnectionTrait,
            viewer: &Actor,
            keys: &[Uuid],
        ) -> DomainResult<Vec<$module::Model>> {
            if !$rule(viewer) {
                return Ok(Vec::new());
            }
            let select = $module::Entity::find().filter($module::Column::$column.is_in(keys.iter().copied()));
            $(let select = select.order_by_asc($module::Column::$order);)?
            Ok(select.all(db).await?)
        }
    };
}

lookup!(users, user, Id, seen by anyone);
lookup!(technicians, technician, Id, seen by anyone);
lookup!(
    /// Technician profiles linked to these logins.
    technicians_of_users, technician, UserId, seen by anyone
);
lookup!(customers, customer, Id, seen by anyone);
lookup!(jobs, job, Id, seen by anyone);
lookup!(assignments_of_jobs, job_assignment, JobId, seen by anyone);
lookup!(invoices, invoice, Id, seen by access::sees_billing);
lookup!(
    /// `Job.invoice`: null for those who do not see billing.
    invoices_of_jobs, invoice, JobId, seen by access::sees_billing
);
lookup!(
    /// `Job.financials`: null for those who do not see billing.
    financials_of_jobs, job_financials, JobId, seen by access::sees_billing
);
lookup!(payments, payment, Id, seen by access::sees_billing);
lookup!(
    /// Invoice lines in invoice order.
    lines_of_invoices, invoice_line, InvoiceId, seen by access::sees_billing, ordered by Position
);
lookup!(
    /// Payments oldest first.
    payments_of_invoices, payment, InvoiceId, seen by access::sees_billing, ordered by ReceivedAt
);

/// The technicians among `keys` whose calendar the viewer may read.
fn calendars_seen(viewer: &Actor, keys: &[Uuid]) -> Vec<Uuid> {
    keys.iter().copied().filter(|id| access::sees_calendar(viewer, *id)).collect()
}

/// `Technician.upcomingJobs`: empty for a technician the viewer may not see.
pub async fn upcoming_of_technicians(
    db: &impl ConnectionTrait,
    viewer: &Actor,
    keys: &[Uuid],
) -> DomainResult<Vec<UpcomingWithJob>> {
    let seen = calendars_seen(viewer, keys);
    if seen.is_empty() {
        return Ok(Vec::new());
    }
    schedules::upcoming_of(db, Some(&seen)).await
}

/// `Technician.schedule(from, to)`: empty for a technician the viewer may
/// not see. The window is checked first (BAD_USER_INPUT), for everyone.
pub async fn calendars_of_technicians(
    db: &impl ConnectionTrait,
    viewer: &Actor,
    keys: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DomainResult<Vec<EntryWithJob>> {
    schedules::check_calendar_window(from, to)?;
    let seen = calendars_seen(viewer, keys);
    if seen.is_empty() {
        return Ok(Vec::new());
    }
    schedules::entries_of(db, &seen, from, to).await
}
