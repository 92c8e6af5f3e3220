//! Every kind of change the journal records, typed: one variant per event
//! name, each with the data that says what changed. The table in
//! `changes!` is the only place event names are written; adding one means
//! adding a row here and following the compiler (subscriptions, the audit
//! trail and integrations match on `Change`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::entities::enums::{JobPriority, JobStatus, PaymentMethod, Role, ScheduleKind};

/// The kind of row a journal entry is about (`entityType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityType {
    User,
    Customer,
    Technician,
    Schedule,
    Job,
    Invoice,
    Webhook,
}

impl EntityType {
    pub const ALL: [EntityType; 7] = [
        EntityType::User,
        EntityType::Customer,
        EntityType::Technician,
        EntityType::Schedule,
        EntityType::Job,
        EntityType::Invoice,
        EntityType::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::User => "user",
            EntityType::Customer => "customer",
            EntityType::Technician => "technician",
            EntityType::Schedule => "schedule",
            EntityType::Job => "job",
            EntityType::Invoice => "invoice",
            EntityType::Webhook => "webhook",
        }
    }

    pub fn parse(text: &str) -> Option<EntityType> {
        EntityType::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

macro_rules! changes {
    ($($variant:ident($data:ty) = $name:literal on $entity:ident,)*) => {
        /// A change, as written to the journal: `event` is the name, `data`
        /// the payload (serde's adjacent tagging is exactly the row's shape).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "event", content = "data")]
        pub enum Change {
            $(#[serde(rename = $name)] $variant($data),)*
        }

        impl Change {
            /// Every event name, in the order of the table.
            pub const NAMES: &[&str] = &[$($name),*];

            /// The event name, e.g. `job.assigned`.
            pub fn name(&self) -> &'static str {
                match self { $(Change::$variant(_) => $name,)* }
            }

            /// What kind of row the change is about.
            pub fn entity_type(&self) -> EntityType {
                match self { $(Change::$variant(_) => EntityType::$entity,)* }
            }
        }
    };
}

changes! {
    UserRegistered(UserRegistered) = "user.registered" on User,
    UserUpdated(UserUpdated) = "user.updated" on User,
    PasswordChanged(PasswordChanged) = "user.password_changed" on User,
    SessionsRevoked(SessionsRevoked) = "user.sessions_revoked" on User,
    LoginFailed(LoginFailed) = "auth.login_failed" on User,
    CustomerCreated(CustomerData) = "customer.created" on Customer,
    CustomerUpdated(CustomerData) = "customer.updated" on Customer,
    TechnicianCreated(TechnicianData) = "technician.created" on Technician,
    TechnicianUpdated(TechnicianData) = "technician.updated" on Technician,
    ScheduleCreated(ScheduleData) = "schedule.created" on Schedule,
    ScheduleDeleted(ScheduleData) = "schedule.deleted" on Schedule,
    JobCreated(JobCreated) = "job.created" on Job,
    JobAssigned(JobAssigned) = "job.assigned" on Job,
    JobUnassigned(JobUnassigned) = "job.unassigned" on Job,
    JobStarted(JobStarted) = "job.started" on Job,
    JobCompleted(JobCompleted) = "job.completed" on Job,
    JobInvoiced(JobInvoiced) = "job.invoiced" on Job,
    JobCancelled(JobCancelled) = "job.cancelled" on Job,
    InvoiceCreated(InvoiceCreated) = "invoice.created" on Invoice,
    PaymentRecorded(PaymentRecorded) = "payment.recorded" on Invoice,
    InvoicePaid(InvoicePaid) = "invoice.paid" on Invoice,
    WebhookCreated(WebhookData) = "webhook.created" on Webhook,
    WebhookUpdated(WebhookData) = "webhook.updated" on Webhook,
    WebhookDeleted(WebhookData) = "webhook.deleted" on Webhook,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRegistered {
    pub email: String,
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserUpdated {
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub previous: UserState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserState {
    pub name: String,
    pub role: Role,
    pub active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangedBy {
    /// The account's owner (`changePassword`).
    #[serde(rename = "self")]
    Owner,
    /// An administrator (`updateUser`).
    Admin,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordChanged {
    pub by: ChangedBy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionsRevoked {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginFailure {
    UnknownEmail,
    Inactive,
    WrongPassword,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginFailed {
    pub email: String,
    pub reason: LoginFailure,
    /// Set when the password was checked by another operation than `login`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    pub client: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerData {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TechnicianData {
    pub name: String,
    pub user_id: Option<Uuid>,
    pub skill_level: i32,
    pub hourly_rate: Decimal,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_longitude: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleData {
    pub technician_id: Uuid,
    pub kind: ScheduleKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobCreated {
    pub title: String,
    pub customer_id: Uuid,
    pub priority: JobPriority,
    pub required_skill_level: i32,
}

/// A technician's booked window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub technician_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobAssigned {
    #[serde(flatten)]
    pub booking: Booking,
    /// The booking this one replaced (a move).
    pub previous: Option<Booking>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobUnassigned {
    pub technician_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStarted {
    pub started_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobCompleted {
    pub completed_at: DateTime<Utc>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInvoiced {
    pub invoice_id: Uuid,
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobCancelled {
    pub from: JobStatus,
    pub reason: Option<String>,
    pub technician_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceCreated {
    pub number: String,
    pub job_id: Uuid,
    pub total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRecorded {
    pub payment_id: Uuid,
    pub amount: Decimal,
    pub method: PaymentMethod,
    pub amount_paid: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoicePaid {
    pub payment_id: Uuid,
    pub paid_at: DateTime<Utc>,
}

/// A webhook as journalled: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookData {
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub description: Option<String>,
    /// Set on the `webhook.updated` of `rotateWebhookSecret`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret_rotated: bool,
}

impl Change {
    /// The payment a `payment.recorded` or `invoice.paid` change is about.
    pub fn payment_id(&self) -> Option<Uuid> {
        match self {
            Change::PaymentRecorded(p) => Some(p.payment_id),
            Change::InvoicePaid(p) => Some(p.payment_id),
            _ => None,
        }
    }
}
