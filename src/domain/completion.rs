//! `completeJob`: the job's last two moves (IN_PROGRESS → COMPLETED →
//! INVOICED) and its invoice, in one transaction: all of it or none.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};
use uuid::Uuid;

use super::actor::Actor;
use super::billing::{Line, issue_invoice};
use super::error::{DomainError, DomainResult};
use super::jobs::{lock_for_move, require_work, set_status};
use super::money::{self, MAX_AMOUNT_CENTS};
use super::{clock, lifecycle, validate};
use crate::entities::enums::{InvoiceLineKind, JobStatus};
use crate::entities::{job, job_assignment, technician};
use crate::journal::Change;
use crate::journal::change::{JobCompleted, JobInvoiced};

pub const MAX_MATERIALS: usize = 100;
/// Labour hours on one invoice: at most 1,000 (in hundredths).
pub const MAX_LABOR_HUNDREDTHS: i64 = 100_000;
const QUARTER_HOUR_SECONDS: i64 = 15 * 60;

pub struct Material {
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
}

#[derive(Default)]
pub struct Completion {
    pub notes: Option<String>,
    pub labor_hours: Option<Decimal>,
    pub materials: Vec<Material>,
}

/// Worked time rounded up to the next quarter hour, at least a quarter.
pub fn default_labor_hundredths(started_at: DateTime<Utc>, completed_at: DateTime<Utc>) -> i64 {
    let seconds = (completed_at - started_at).num_seconds().max(0);
    let quarters = ((seconds + QUARTER_HOUR_SECONDS - 1) / QUARTER_HOUR_SECONDS).max(1);
    quarters * 25
}

fn material_lines(materials: Vec<Material>) -> DomainResult<Vec<Line>> {
    if materials.len() > MAX_MATERIALS {
        return Err(DomainError::bad_input("materials", format!("at most {MAX_MATERIALS} materials")));
    }
    materials
        .into_iter()
        .map(|m| {
            let quantity_hundredths = money::to_hundredths("quantity", m.quantity)?;
            if quantity_hundredths <= 0 || quantity_hundredths > MAX_LABOR_HUNDREDTHS * 10 {
                return Err(DomainError::bad_input("quantity", "quantity must be positive (at most 10,000)"));
            }
            Ok(Line {
                kind: InvoiceLineKind::Material,
                description: validate::required_text("description", &m.description, validate::NAME_MAX)?,
                quantity_hundredths,
                unit_price_cents: money::to_cents_in("unitPrice", m.unit_price, 0, MAX_AMOUNT_CENTS)?,
            })
        })
        .collect()
}

/// `completeJob`: IN_PROGRESS → COMPLETED → INVOICED with its invoice, all
/// in one transaction.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn complete(
    db: &DatabaseConnection,
    actor: &Actor,
    job_id: Uuid,
    completion: Completion,
) -> DomainResult<job::Model> {
    require_work(actor)?;
    let notes = validate::optional_text("notes", completion.notes.as_deref(), validate::TEXT_MAX)?;
    let labor_hours = completion
        .labor_hours
        .map(|hours| {
            let hundredths = money::to_hundredths("laborHours", hours)?;
            if (0..=MAX_LABOR_HUNDREDTHS).contains(&hundredths) {
                Ok(hundredths)
            } else {
                Err(DomainError::bad_input("laborHours", "laborHours must be between 0 and 1000"))
            }
        })
        .transpose()?;
    let materials = material_lines(completion.materials)?;

    let txn = super::write(db, actor).await?;
    let (job, assignment) = lock_for_move(&txn, actor, job_id).await?;
    lifecycle::check(job.status, JobStatus::Completed)?;
    let assignment = assignment.ok_or_else(|| DomainError::internal("in-progress job without assignment"))?;
    let technician = technician::Entity::find_by_id(assignment.technician_id)
        .one(&*txn)
        .await?
        .ok_or_else(|| DomainError::internal("assignment without technician"))?;
    let completed_at = clock::now();
    let started_at = job.started_at.unwrap_or(completed_at);
    let labor = Line {
        kind: InvoiceLineKind::Labor,
        description: format!("Labour: {} ({})", job.title, technician.name),
        quantity_hundredths: labor_hours.unwrap_or_else(|| default_labor_hundredths(started_at, completed_at)),
        unit_price_cents: technician.hourly_rate_cents,
    };

    let completed = set_status(&txn, job, JobStatus::Completed, |m| {
        m.completed_at = Set(Some(completed_at));
        if notes.is_some() {
            m.notes = Set(notes.clone());
        }
    })
    .await?;
    txn.record(completed.id, Change::JobCompleted(JobCompleted { completed_at, notes })).await?;
    // Done: the window stops blocking the technician's calendar.
    let mut released: job_assignment::ActiveModel = assignment.into();
    released.live = Set(false);
    released.update(&*txn).await?;

    let issued = issue_invoice(&txn, &completed, std::iter::once(labor).chain(materials).collect()).await?;

    lifecycle::check(completed.status, JobStatus::Invoiced)?;
    let invoiced = set_status(&txn, completed, JobStatus::Invoiced, |_| {}).await?;
    txn.commit(invoiced.id, Change::JobInvoiced(JobInvoiced { invoice_id: issued.id, number: issued.number })).await?;
    Ok(invoiced)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn labour_rounds_up_to_quarter_hours() {
        let start = Utc::now();
        assert_eq!(default_labor_hundredths(start, start), 25);
        assert_eq!(default_labor_hundredths(start, start + Duration::minutes(15)), 25);
        assert_eq!(default_labor_hundredths(start, start + Duration::minutes(16)), 50);
        assert_eq!(default_labor_hundredths(start, start + Duration::minutes(61)), 125);
    }
}
