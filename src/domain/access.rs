//! Who may see what: every visibility rule of RULES.md's role table, in one
//! place. Use cases and the batched lookups behind nested fields both ask
//! here, so a rule has one answer whatever path reaches it. (`actor.rs`
//! holds what each role may *do*; this file what a caller may *see*.)
//!
//! How a "no" looks is fixed by the contract per kind of path: a
//! single-object query answers null, a mutation NOT_FOUND, a list leaves the
//! row out, a nested billing field is null, a root billing query FORBIDDEN.

use uuid::Uuid;

use super::actor::{Actor, Permission};

/// Staff see every technician; a technician only itself.
pub fn sees_technician(actor: &Actor, technician_id: Uuid) -> bool {
    actor.can(Permission::ReadAllTechnicians) || actor.technician_id == Some(technician_id)
}

/// A technician's calendar and upcoming work: as for the technician.
pub fn sees_calendar(actor: &Actor, technician_id: Uuid) -> bool {
    sees_technician(actor, technician_id)
}

/// Whether the job is the caller's own: a technician's, assigned to it now.
pub fn owns_job(actor: &Actor, assigned_to: Option<Uuid>) -> bool {
    actor.technician_id.is_some() && assigned_to == actor.technician_id
}

/// Staff see every job; a technician only jobs assigned to it now.
pub fn sees_job(actor: &Actor, assigned_to: Option<Uuid>) -> bool {
    actor.can(Permission::ReadAllJobs) || owns_job(actor, assigned_to)
}

/// A `jobChanged` event: staff see every job's; a technician only those of
/// jobs assigned to it when the event is delivered. Any other event is
/// skipped by this rule, never by accident.
pub fn sees_job_event(actor: &Actor, assigned_when_delivered: Option<Uuid>) -> bool {
    actor.can(Permission::WatchAllJobs) || owns_job(actor, assigned_when_delivered)
}

/// `invoiceChanged`: staff only (checked when subscribing; a role change
/// closes the socket).
pub fn sees_invoice_events(actor: &Actor) -> bool {
    actor.can(Permission::WatchInvoices)
}

/// Invoices, payments and a job's financials: staff only.
pub fn sees_billing(actor: &Actor) -> bool {
    actor.can(Permission::Billing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::enums::Role;

    fn actor(role: Role, technician_id: Option<Uuid>) -> Actor {
        Actor { user_id: Uuid::from_u128(1), role, technician_id, session_epoch: 0 }
    }

    #[test]
    fn technicians_see_their_own_work_only() {
        let (own, other) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let technician = actor(Role::Technician, Some(own));
        assert!(sees_technician(&technician, own) && !sees_technician(&technician, other));
        assert!(sees_calendar(&technician, own) && !sees_calendar(&technician, other));
        assert!(
            sees_job(&technician, Some(own)) && !sees_job(&technician, Some(other)) && !sees_job(&technician, None)
        );
        assert!(!sees_billing(&technician));
        // A technician login without a profile owns nothing.
        assert!(!sees_job(&actor(Role::Technician, None), None));
    }

    #[test]
    fn job_events_reach_staff_and_the_assigned_technician_only() {
        let (own, other) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let technician = actor(Role::Technician, Some(own));
        assert!(sees_job_event(&technician, Some(own)));
        assert!(!sees_job_event(&technician, Some(other)), "another technician's job is skipped");
        assert!(!sees_job_event(&technician, None), "an unassigned job is skipped");
        assert!(!sees_invoice_events(&technician));
        for role in [Role::Admin, Role::Dispatcher] {
            assert!(sees_job_event(&actor(role, None), None));
            assert!(sees_invoice_events(&actor(role, None)));
        }
    }

    #[test]
    fn staff_see_everything() {
        for role in [Role::Admin, Role::Dispatcher] {
            let staff = actor(role, None);
            assert!(sees_technician(&staff, Uuid::from_u128(10)));
            assert!(sees_job(&staff, None));
            assert!(sees_billing(&staff));
        }
    }
}
