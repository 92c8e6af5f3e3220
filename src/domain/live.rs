//! Rules of the live feeds: which journal entries are which events, and who
//! may see them. Checked per event, not only per subscription.

use super::access;
use super::actor::Actor;
use super::cursor::Cursor;
use super::error::{DomainError, DomainResult};
use super::jobs;
use crate::entities::{invoice, job};
use crate::journal::{EntityType, Entry, EventBus, bus};

/// Whether a job event reaches the caller: staff see every job; a
/// technician only jobs assigned to it when the event is delivered.
/// Anything else (not a job event, another technician's job) is skipped by
/// this rule, not by accident.
pub async fn sees_job_event(bus: &EventBus, actor: &Actor, entry: &Entry) -> DomainResult<bool> {
    if entry.entity_type() != EntityType::Job {
        return Ok(false);
    }
    if access::sees_job_event(actor, None) {
        return Ok(true); // staff: no lookup needed
    }
    if actor.technician_id.is_none() {
        return Ok(false);
    }
    let assignee = bus.assignees.get_or_load(entry.id, || jobs::assigned_technician(bus.db(), entry.entity_id)).await?;
    Ok(access::sees_job_event(actor, assignee))
}

/// `invoiceChanged` is for staff only.
pub fn require_invoice_events(actor: &Actor) -> DomainResult<()> {
    if access::sees_invoice_events(actor) { Ok(()) } else { Err(DomainError::Forbidden) }
}

/// The job of a job event as it was when the event was first delivered
/// (one lookup shared by every subscriber).
pub async fn job_of(bus: &EventBus, entry: &Entry) -> DomainResult<job::Model> {
    let (id, db) = (entry.entity_id, bus.db());
    let found = bus.jobs.get_or_load(entry.id, || async move { jobs::find(db, id).await }).await?;
    found.ok_or(DomainError::NotFound("job"))
}

/// The invoice of an invoice event as it was when first delivered.
pub async fn invoice_of(bus: &EventBus, entry: &Entry) -> DomainResult<invoice::Model> {
    let (id, db) = (entry.entity_id, bus.db());
    let found = bus.invoices.get_or_load(entry.id, || async move { super::billing::find(db, id).await }).await?;
    found.ok_or(DomainError::NotFound("invoice"))
}

/// `after`: a cursor this server issued, naming an existing journal row.
pub async fn resume_point(db: &impl sea_orm::ConnectionTrait, after: Option<&str>) -> DomainResult<Option<i64>> {
    let Some(text) = after else { return Ok(None) };
    let unknown = || DomainError::bad_input("after", "unknown cursor");
    let id = Cursor::decode(text).and_then(Cursor::as_journal).ok_or_else(unknown)?;
    if id == 0 || bus::exists(db, id).await? { Ok(Some(id)) } else { Err(unknown()) }
}
