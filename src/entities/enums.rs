//! Enumerations stored as TEXT (checked by the database) and served as
//! GraphQL enums under the same names.

use sea_orm::entity::prelude::*;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum, serde::Serialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Role {
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    #[sea_orm(string_value = "DISPATCHER")]
    Dispatcher,
    #[sea_orm(string_value = "TECHNICIAN")]
    Technician,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Dispatcher => "DISPATCHER",
            Role::Technician => "TECHNICIAN",
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum, serde::Serialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum JobStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    #[sea_orm(string_value = "IN_PROGRESS")]
    InProgress,
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    #[sea_orm(string_value = "INVOICED")]
    Invoiced,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

impl JobStatus {
    /// The contract's spelling (`IN_PROGRESS`), used in error extensions.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "PENDING",
            JobStatus::Scheduled => "SCHEDULED",
            JobStatus::InProgress => "IN_PROGRESS",
            JobStatus::Completed => "COMPLETED",
            JobStatus::Invoiced => "INVOICED",
            JobStatus::Cancelled => "CANCELLED",
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum, serde::Serialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum JobPriority {
    #[sea_orm(string_value = "LOW")]
    Low,
    #[sea_orm(string_value = "NORMAL")]
    Normal,
    #[sea_orm(string_value = "HIGH")]
    High,
    #[sea_orm(string_value = "URGENT")]
    Urgent,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum, serde::Serialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum InvoiceStatus {
    #[sea_orm(string_value = "ISSUED")]
    Issued,
    #[sea_orm(string_value = "PARTIALLY_PAID")]
    PartiallyPaid,
    #[sea_orm(string_value = "PAID")]
    Paid,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum, serde::Serialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ScheduleKind {
    #[sea_orm(string_value = "AVAILABLE")]
    Available,
    #[sea_orm(string_value = "UNAVAILABLE")]
    Unavailable,
    #[sea_orm(string_value = "JOB")]
    Job,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum, serde::Serialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum PaymentMethod {
    #[sea_orm(string_value = "CASH")]
    Cash,
    #[sea_orm(string_value = "CARD")]
    Card,
    #[sea_orm(string_value = "CHECK")]
    Check,
    #[sea_orm(string_value = "BANK_TRANSFER")]
    BankTransfer,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum InvoiceLineKind {
    #[sea_orm(string_value = "LABOR")]
    Labor,
    #[sea_orm(string_value = "MATERIAL")]
    Material,
}
