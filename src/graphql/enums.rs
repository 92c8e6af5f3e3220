//! The contract's enums: those stored are mirrored from the entities
//! (`remote` derives the conversions both ways, and a variant added on one
//! side and not the other fails to compile). Nothing below the GraphQL
//! layer derives async-graphql types.

use async_graphql::Enum;

use crate::entities::enums;
use crate::journal::Change;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "enums::Role")]
pub enum Role {
    Admin,
    Dispatcher,
    Technician,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "enums::DeliveryStatus")]
pub enum WebhookDeliveryStatus {
    Pending,
    Succeeded,
    Failed,
    Dead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "enums::JobStatus")]
pub enum JobStatus {
    Pending,
    Scheduled,
    InProgress,
    Completed,
    Invoiced,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "enums::JobPriority")]
pub enum JobPriority {
    Low,
    Normal,
    High,
    Urgent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "enums::InvoiceStatus")]
pub enum InvoiceStatus {
    Issued,
    PartiallyPaid,
    Paid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "enums::ScheduleKind")]
pub enum ScheduleKind {
    Available,
    Unavailable,
    Job,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "enums::PaymentMethod")]
pub enum PaymentMethod {
    Cash,
    Card,
    Check,
    BankTransfer,
    Other,
}

// A JobEvent's kind: the journal event's second word (`job.assigned` →
// ASSIGNED). (Plain comments: a doc comment would change the served schema.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum JobEventKind {
    Created,
    // In the contract, but never sent: no operation changes a job's own
    // fields except through the moves below, each with its own kind.
    Updated,
    Assigned,
    Unassigned,
    Started,
    Completed,
    Invoiced,
    Cancelled,
}

impl JobEventKind {
    /// None: not a job event.
    pub fn of(change: &Change) -> Option<JobEventKind> {
        match feed_of(change) {
            Feed::Job(kind) => Some(kind),
            Feed::Invoice(_) | Feed::Neither => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum InvoiceEventKind {
    Created,
    PaymentRecorded,
    Paid,
}

impl InvoiceEventKind {
    /// None: not an invoice event.
    pub fn of(change: &Change) -> Option<InvoiceEventKind> {
        match feed_of(change) {
            Feed::Invoice(kind) => Some(kind),
            Feed::Job(_) | Feed::Neither => None,
        }
    }
}

/// The live feed a change belongs to.
enum Feed {
    Job(JobEventKind),
    Invoice(InvoiceEventKind),
    Neither,
}

/// One match over every change, without a wildcard: a new journal event
/// must be placed in a feed (or in none) on purpose.
fn feed_of(change: &Change) -> Feed {
    match change {
        Change::JobCreated(_) => Feed::Job(JobEventKind::Created),
        Change::JobAssigned(_) => Feed::Job(JobEventKind::Assigned),
        Change::JobUnassigned(_) => Feed::Job(JobEventKind::Unassigned),
        Change::JobStarted(_) => Feed::Job(JobEventKind::Started),
        Change::JobCompleted(_) => Feed::Job(JobEventKind::Completed),
        Change::JobInvoiced(_) => Feed::Job(JobEventKind::Invoiced),
        Change::JobCancelled(_) => Feed::Job(JobEventKind::Cancelled),
        Change::InvoiceCreated(_) => Feed::Invoice(InvoiceEventKind::Created),
        Change::PaymentRecorded(_) => Feed::Invoice(InvoiceEventKind::PaymentRecorded),
        Change::InvoicePaid(_) => Feed::Invoice(InvoiceEventKind::Paid),
        Change::UserRegistered(_)
        | Change::UserUpdated(_)
        | Change::PasswordChanged(_)
        | Change::SessionsRevoked(_)
        | Change::LoginFailed(_)
        | Change::CustomerCreated(_)
        | Change::CustomerUpdated(_)
        | Change::TechnicianCreated(_)
        | Change::TechnicianUpdated(_)
        | Change::ScheduleCreated(_)
        | Change::ScheduleDeleted(_)
        | Change::WebhookCreated(_)
        | Change::WebhookUpdated(_)
        | Change::WebhookDeleted(_) => Feed::Neither,
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::journal::change::{CustomerData, InvoicePaid, JobStarted};

    #[test]
    fn each_feed_takes_its_own_changes_only() {
        let now = chrono::Utc::now();
        let started = Change::JobStarted(JobStarted { started_at: now });
        assert_eq!(JobEventKind::of(&started), Some(JobEventKind::Started));
        assert_eq!(InvoiceEventKind::of(&started), None);
        let paid = Change::InvoicePaid(InvoicePaid { payment_id: Uuid::nil(), paid_at: now });
        assert_eq!(InvoiceEventKind::of(&paid), Some(InvoiceEventKind::Paid));
        assert_eq!(JobEventKind::of(&paid), None);
        let customer = Change::CustomerCreated(CustomerData {
            name: "A".into(),
            email: None,
            phone: None,
            address: None,
            latitude: None,
            longitude: None,
        });
        assert_eq!((JobEventKind::of(&customer), InvoiceEventKind::of(&customer)), (None, None));
    }
}
