//! Rules of the live feeds: which journal rows are which events, and who may
//! see them. Checked per event, not only per subscription.

use uuid::Uuid;

use super::actor::{Actor, Permission};
use super::error::{DomainError, DomainResult};
use super::jobs;
use crate::entities::log;
use crate::events::EventBus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum JobEventKind {
    Created,
    Updated,
    Assigned,
    Unassigned,
    Started,
    Completed,
    Invoiced,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum InvoiceEventKind {
    Created,
    PaymentRecorded,
    Paid,
}

/// `job.assigned` → ASSIGNED: the log event's second word.
pub fn job_event_kind(row: &log::Model) -> Option<JobEventKind> {
    use JobEventKind::*;
    Some(match row.event.strip_prefix("job.")? {
        "created" => Created,
        "updated" => Updated,
        "assigned" => Assigned,
        "unassigned" => Unassigned,
        "started" => Started,
        "completed" => Completed,
        "invoiced" => Invoiced,
        "cancelled" => Cancelled,
        _ => return None,
    })
}

pub fn invoice_event_kind(row: &log::Model) -> Option<InvoiceEventKind> {
    match row.event.as_str() {
        "invoice.created" => Some(InvoiceEventKind::Created),
        "payment.recorded" => Some(InvoiceEventKind::PaymentRecorded),
        "invoice.paid" => Some(InvoiceEventKind::Paid),
        _ => None,
    }
}

/// The payment a PAYMENT_RECORDED or PAID event is about.
pub fn payment_of(row: &log::Model) -> Option<Uuid> {
    row.data.as_ref()?.get("paymentId")?.as_str()?.parse().ok()
}

/// Whether this job event reaches the caller: staff see every job; a
/// technician only jobs assigned to it when the event is delivered.
pub async fn sees_job_event(bus: &EventBus, actor: &Actor, row: &log::Model) -> DomainResult<bool> {
    if actor.can(Permission::WatchAllJobs) {
        return Ok(true);
    }
    let Some(own) = actor.technician_id else { return Ok(false) };
    let assignee = bus.assignees.get_or_load(row.id, || jobs::assigned_technician(bus.db(), row.entity_id)).await?;
    Ok(assignee == Some(own))
}

/// `invoiceChanged` is for staff only.
pub fn require_invoice_events(actor: &Actor) -> DomainResult<()> {
    actor.require(Permission::WatchInvoices)
}

/// `after`: a cursor this server issued, naming an existing journal row.
pub async fn resume_point(db: &sea_orm::DatabaseConnection, after: Option<&str>) -> DomainResult<Option<i64>> {
    let Some(text) = after else { return Ok(None) };
    let unknown = || DomainError::bad_input("after", "unknown cursor");
    let id = crate::events::cursor::decode(text).ok_or_else(unknown)?;
    if id == 0 || crate::events::exists(db, id).await? { Ok(Some(id)) } else { Err(unknown()) }
}
