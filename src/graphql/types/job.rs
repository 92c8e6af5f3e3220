use std::borrow::Cow;

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use super::{Assignment, Customer, Invoice, JobFinancials, Technician};
use crate::domain::DomainError;
use crate::entities::{job, job_assignment};
use crate::graphql::context::ContextExt;
use crate::graphql::enums::{JobPriority, JobStatus};
use crate::graphql::ids;
use crate::graphql::loaders::shared;

#[derive(Clone)]
pub struct Job {
    pub model: job::Model,
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
    pub fn new(model: job::Model) -> Self {
        Job { model, assignment: None, customer: None, technician: None, invoice: None }
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
                let loaded = ctx.loaders().assignment_by_job.load_one(self.model.id).await.map_err(shared)?;
                Ok(loaded.map(|a| Cow::Owned(Assignment(a))))
            }
        }
    }
}

#[Object]
impl Job {
    async fn id(&self) -> ID {
        ids::of(self.model.id)
    }
    async fn title(&self) -> &str {
        &self.model.title
    }
    async fn description(&self) -> Option<&str> {
        self.model.description.as_deref()
    }
    async fn status(&self) -> JobStatus {
        self.model.status.into()
    }
    async fn priority(&self) -> JobPriority {
        self.model.priority.into()
    }
    async fn required_skill_level(&self) -> i32 {
        self.model.required_skill_level
    }
    async fn customer(&self, ctx: &Context<'_>) -> Result<Cow<'_, Customer>> {
        if let Some(customer) = &self.customer {
            return Ok(Cow::Borrowed(customer));
        }
        let customer = ctx.loaders().customer_by_id.load_one(self.model.customer_id).await.map_err(shared)?;
        Ok(Cow::Owned(Customer(customer.ok_or_else(|| DomainError::internal("job without customer"))?)))
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
        Ok(technician.map(|t| Cow::Owned(Technician(t))))
    }
    /// Null for technicians: they never see billing.
    async fn invoice(&self, ctx: &Context<'_>) -> Result<Option<Cow<'_, Invoice>>> {
        if let Some(invoice) = &self.invoice {
            return Ok(invoice.as_ref().map(Cow::Borrowed));
        }
        let invoice = ctx.loaders().invoice_by_job.load_one(self.model.id).await.map_err(shared)?;
        Ok(invoice.map(|i| Cow::Owned(Invoice(i))))
    }
    /// Row of the job_financials view; null for technicians.
    async fn financials(&self, ctx: &Context<'_>) -> Result<Option<JobFinancials>> {
        Ok(ctx.loaders().financials_by_job.load_one(self.model.id).await.map_err(shared)?.map(JobFinancials))
    }
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.model.started_at
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.model.completed_at
    }
    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.model.cancelled_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }
}

crate::graphql::connection::connection_types!(JobConnection, JobEdge, Job);
