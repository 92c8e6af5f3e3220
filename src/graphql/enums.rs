//! The contract's enums, mirrored from the entities and the domain
//! (`remote` derives the conversions both ways, and a variant added on one
//! side and not the other fails to compile). Nothing below the GraphQL
//! layer derives async-graphql types.

use async_graphql::Enum;

use crate::domain::live;
use crate::entities::enums;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "enums::Role")]
pub enum Role {
    Admin,
    Dispatcher,
    Technician,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "live::JobEventKind")]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "live::InvoiceEventKind")]
pub enum InvoiceEventKind {
    Created,
    PaymentRecorded,
    Paid,
}
