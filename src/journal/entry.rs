//! The one place a `Change` becomes a `logs` row and a row becomes a
//! `Change` again.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::{NotSet, Set};
use uuid::Uuid;

use super::change::{Change, EntityType};
use crate::entities::journal_entry;

/// A committed journal entry, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The journal position (the cursor of subscriptions and the change feed).
    pub id: i64,
    /// The row the change is about (its kind is `change.entity_type()`).
    pub entity_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub change: Change,
}

impl Entry {
    pub fn entity_type(&self) -> EntityType {
        self.change.entity_type()
    }
}

/// A row this build cannot read as a `Change` (written by a newer version,
/// or edited by hand).
#[derive(Debug, thiserror::Error)]
#[error("journal row {id} ({event}) is not a known change: {cause}")]
pub struct UnknownChange {
    pub id: i64,
    pub event: String,
    pub cause: serde_json::Error,
}

/// The row to insert for `change` about `entity_id`, dated `at` (None: the
/// statement dates it).
pub fn to_row(
    change: &Change,
    entity_id: Uuid,
    actor_id: Option<Uuid>,
    at: Option<DateTime<Utc>>,
) -> journal_entry::ActiveModel {
    journal_entry::ActiveModel {
        event: Set(change.name().to_owned()),
        entity_type: Set(change.entity_type().as_str().to_owned()),
        entity_id: Set(entity_id),
        actor_id: Set(actor_id),
        data: Set(Some(data_of(change))),
        created_at: at.map_or(NotSet, Set),
        ..Default::default()
    }
}

/// The `data` column of `change`.
pub fn data_of(change: &Change) -> serde_json::Value {
    match serde_json::to_value(change) {
        Ok(serde_json::Value::Object(mut tagged)) => tagged.remove("data").unwrap_or(serde_json::Value::Null),
        // Every payload is a struct of plain values: serialising cannot fail.
        _ => serde_json::Value::Null,
    }
}

/// Reads a row back.
pub fn from_row(row: &journal_entry::Model) -> Result<Entry, UnknownChange> {
    let tagged = serde_json::json!({ "event": row.event, "data": row.data });
    let change = serde_json::from_value::<Change>(tagged).map_err(|cause| UnknownChange {
        id: row.id,
        event: row.event.clone(),
        cause,
    })?;
    Ok(Entry { id: row.id, entity_id: row.entity_id, actor_id: row.actor_id, at: row.created_at, change })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal::Decimal;
    use serde_json::json;

    use super::*;
    use crate::entities::enums::{JobStatus, PaymentMethod, Role};
    use crate::journal::change::*;

    fn row_of(change: &Change) -> journal_entry::Model {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
        let active = to_row(change, Uuid::nil(), None, Some(at));
        journal_entry::Model {
            id: 7,
            event: active.event.unwrap(),
            entity_type: active.entity_type.unwrap(),
            entity_id: active.entity_id.unwrap(),
            actor_id: active.actor_id.unwrap(),
            data: active.data.unwrap(),
            created_at: active.created_at.unwrap(),
        }
    }

    #[test]
    fn every_change_reads_back_as_itself() {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 10, 30, 0).unwrap();
        let id = Uuid::from_u128(42);
        let samples = vec![
            Change::UserRegistered(UserRegistered { email: "a@b.c".into(), name: "A".into(), role: Role::Admin }),
            Change::PasswordChanged(PasswordChanged { by: ChangedBy::Owner }),
            Change::SessionsRevoked(SessionsRevoked {}),
            Change::LoginFailed(LoginFailed {
                email: "a@b.c".into(),
                reason: LoginFailure::WrongPassword,
                operation: None,
                client: "127.0.0.1".into(),
            }),
            Change::JobAssigned(JobAssigned {
                booking: Booking { technician_id: id, starts_at: at, ends_at: at },
                previous: None,
            }),
            Change::JobCancelled(JobCancelled { from: JobStatus::Scheduled, reason: None, technician_id: Some(id) }),
            Change::PaymentRecorded(PaymentRecorded {
                payment_id: id,
                amount: Decimal::new(1050, 2),
                method: PaymentMethod::Card,
                amount_paid: Decimal::new(1050, 2),
            }),
        ];
        for change in samples {
            let entry = from_row(&row_of(&change)).unwrap();
            assert_eq!(entry.change, change);
            assert_eq!(entry.id, 7);
        }
    }

    #[test]
    fn rows_keep_the_shape_they_always_had() {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 10, 30, 0).unwrap();
        let id = Uuid::from_u128(42);
        let assigned = Change::JobAssigned(JobAssigned {
            booking: Booking { technician_id: id, starts_at: at, ends_at: at },
            previous: None,
        });
        assert_eq!(data_of(&assigned), json!({ "technicianId": id, "startsAt": at, "endsAt": at, "previous": null }));
        let paid = Change::PaymentRecorded(PaymentRecorded {
            payment_id: id,
            amount: Decimal::new(1050, 2),
            method: PaymentMethod::BankTransfer,
            amount_paid: Decimal::new(2000, 2),
        });
        assert_eq!(
            data_of(&paid),
            json!({ "paymentId": id, "amount": "10.50", "method": "BANK_TRANSFER", "amountPaid": "20.00" })
        );
        assert_eq!(data_of(&Change::SessionsRevoked(SessionsRevoked {})), json!({}));
        assert_eq!(
            data_of(&Change::PasswordChanged(PasswordChanged { by: ChangedBy::Owner })),
            json!({ "by": "self" })
        );
        let failed = Change::LoginFailed(LoginFailed {
            email: "x@y.z".into(),
            reason: LoginFailure::UnknownEmail,
            operation: None,
            client: "::1".into(),
        });
        assert_eq!(data_of(&failed), json!({ "email": "x@y.z", "reason": "unknown_email", "client": "::1" }));
    }

    #[test]
    fn names_are_unique_and_name_their_entity() {
        let mut names = Change::NAMES.to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Change::NAMES.len());
        for name in Change::NAMES {
            let family = name.split('.').next().unwrap();
            assert!(
                ["user", "auth", "customer", "technician", "schedule", "job", "invoice", "payment", "webhook"]
                    .contains(&family)
            );
        }
    }

    #[test]
    fn an_unknown_event_is_an_error_not_a_panic() {
        let mut row = row_of(&Change::SessionsRevoked(SessionsRevoked {}));
        row.event = "job.teleported".into();
        assert!(from_row(&row).is_err());
    }
}
