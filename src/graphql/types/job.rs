use std::borrow::Cow;

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use super::record::{Record, either};
use super::{Assignment, Customer, Invoice, JobFinancials, Technician};
use crate::domain::DomainError;
use crate::entities::positional::Unread;
use crate::entities::{job, job_assignment};
use crate::graphql::at_hand::{FieldsAtHand, Selected, Written};
use crate::graphql::context::ContextExt;
use crate::graphql::enums::{JobPriority, JobStatus};
use crate::graphql::ids;
use crate::graphql::loaders::shared;

#[derive(Clone)]
pub struct Job {
    /// The job's columns: all, or the card a board read.
    record: Record<job::Model, job::Card>,
    /// The current assignment when the query already fetched it (`jobs`);
    /// otherwise it is loaded on demand.
    assignment: Option<Option<Assignment>>,
    /// Preloaded for a whole page (`graphql/preload.rs`); else loaded on
    /// demand. Served by reference: no copy per field of a page.
    pub customer: Option<Customer>,
    pub technician: Option<Option<Technician>>,
    /// Read with the job (`jobs::get_detail`), already filtered for billing.
    pub invoice: Option<Option<Invoice>>,
}

impl Job {
    /// Fields that need more than the job's card (`job::Card`).
    pub const WHOLE_ONLY: &[&str] =
        &["description", "requiredSkillLevel", "startedAt", "completedAt", "cancelledAt", "updatedAt"];

    pub fn new(model: job::Model) -> Self {
        Job::of(Record::Whole(model))
    }

    fn of(record: Record<job::Model, job::Card>) -> Self {
        Job { record, assignment: None, customer: None, technician: None, invoice: None }
    }

    /// A job read as its card (`job::Card`): a list's or a calendar's.
    pub fn card(card: job::Card) -> Self {
        Job::of(Record::Card(card, Unread::NONE))
    }

    /// A job read as its card, with its current assignment.
    pub fn card_with_assignment((card, assignment): (job::Card, Option<job_assignment::Model>)) -> Self {
        Job { assignment: Some(assignment.map(Assignment)), ..Job::card(card) }
    }

    pub fn row_id(&self) -> uuid::Uuid {
        *either!(self.record, id)
    }

    pub fn customer_id(&self) -> uuid::Uuid {
        *either!(self.record, customer_id)
    }

    /// Every column of the job (loaded, batched, when only its card was read).
    async fn whole(&self, ctx: &Context<'_>) -> Result<Cow<'_, job::Model>> {
        Ok(self.record.whole("job", |card| ctx.loaders().job_by_id.load_one(card.id)).await?)
    }

    pub fn with_assignment((model, assignment): (job::Model, Option<job_assignment::Model>)) -> Self {
        Job { assignment: Some(assignment.map(Assignment)), ..Job::new(model) }
    }

    /// The technician of the preloaded assignment, if any.
    pub fn assigned_technician_id(&self) -> Option<uuid::Uuid> {
        self.assignment.as_ref().and_then(|a| a.as_ref().map(|a| a.0.technician_id))
    }

    async fn current_assignment(&self, ctx: &Context<'_>) -> Result<Option<Cow<'_, Assignment>>> {
        match &self.assignment {
            Some(known) => Ok(known.as_ref().map(Cow::Borrowed)),
            None => {
                let loaded = ctx.loaders().assignment_by_job.load_one(self.row_id()).await.map_err(shared)?;
                Ok(loaded.map(|a| Cow::Owned(Assignment(a))))
            }
        }
    }
}

#[Object]
impl Job {
    async fn id(&self) -> ID {
        ids::of(self.row_id())
    }
    async fn title(&self) -> &str {
        either!(self.record, title)
    }
    async fn description(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.whole(ctx).await?.description.clone())
    }
    async fn status(&self) -> JobStatus {
        (*either!(self.record, status)).into()
    }
    async fn priority(&self) -> JobPriority {
        (*either!(self.record, priority)).into()
    }
    async fn required_skill_level(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(self.whole(ctx).await?.required_skill_level)
    }
    async fn customer(&self, ctx: &Context<'_>) -> Result<Cow<'_, Customer>> {
        if let Some(customer) = &self.customer {
            return Ok(Cow::Borrowed(customer));
        }
        let customer = ctx.loaders().customer_by_id.load_one(self.customer_id()).await.map_err(shared)?;
        Ok(Cow::Owned(Customer::new(customer.ok_or_else(|| DomainError::internal("job without customer"))?)))
    }
    /// The current assignment, if any.
    async fn assignment(&self, ctx: &Context<'_>) -> Result<Option<Cow<'_, Assignment>>> {
        self.current_assignment(ctx).await
    }
    /// Shortcut for `assignment.technician`.
    async fn technician(&self, ctx: &Context<'_>) -> Result<Option<Cow<'_, Technician>>> {
        if let Some(technician) = &self.technician {
            return Ok(technician.as_ref().map(Cow::Borrowed));
        }
        let Some(assignment) = self.current_assignment(ctx).await? else { return Ok(None) };
        let technician = ctx.loaders().technician_by_id.load_one(assignment.0.technician_id).await.map_err(shared)?;
        Ok(technician.map(|t| Cow::Owned(Technician::new(t))))
    }
    /// Null for technicians: they never see billing.
    async fn invoice(&self, ctx: &Context<'_>) -> Result<Option<Cow<'_, Invoice>>> {
        if let Some(invoice) = &self.invoice {
            return Ok(invoice.as_ref().map(Cow::Borrowed));
        }
        let invoice = ctx.loaders().invoice_by_job.load_one(self.row_id()).await.map_err(shared)?;
        Ok(invoice.map(|i| Cow::Owned(Invoice::new(i))))
    }
    /// Row of the job_financials view; null for technicians.
    async fn financials(&self, ctx: &Context<'_>) -> Result<Option<JobFinancials>> {
        Ok(ctx.loaders().financials_by_job.load_one(self.row_id()).await.map_err(shared)?.map(JobFinancials))
    }
    async fn started_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.whole(ctx).await?.started_at)
    }
    async fn completed_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.whole(ctx).await?.completed_at)
    }
    async fn cancelled_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.whole(ctx).await?.cancelled_at)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        *either!(self.record, created_at)
    }
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(self.whole(ctx).await?.updated_at)
    }
}

/// The fields above answered from what the job holds: its card's or
/// whole row's columns and the parties read with it.
impl FieldsAtHand for Job {
    fn field_at_hand(&self, name: &str, selected: Selected<'_>, out: &mut Written) -> Option<()> {
        let whole = || self.record.whole_at_hand();
        match name {
            "id" => out.id(self.row_id()),
            "title" => out.text(either!(self.record, title)),
            "status" => out.enumerated::<JobStatus>(*either!(self.record, status)),
            "priority" => out.enumerated::<JobPriority>(*either!(self.record, priority)),
            "createdAt" => out.datetime(either!(self.record, created_at)),
            "customer" => out.object(self.customer.as_ref()?, selected)?,
            "technician" => out.nullable(self.technician.as_ref()?, selected)?,
            "assignment" => out.nullable(self.assignment.as_ref()?, selected)?,
            "invoice" => out.nullable(self.invoice.as_ref()?, selected)?,
            "description" => out.optional_text(&whole()?.description),
            "requiredSkillLevel" => out.scalar(&whole()?.required_skill_level),
            "startedAt" => out.optional_datetime(&whole()?.started_at),
            "completedAt" => out.optional_datetime(&whole()?.completed_at),
            "cancelledAt" => out.optional_datetime(&whole()?.cancelled_at),
            "updatedAt" => out.datetime(&whole()?.updated_at),
            _ => return None,
        }
        Some(())
    }
}

crate::graphql::connection::connection_types!(JobConnection, JobEdge, Job, at_hand);
