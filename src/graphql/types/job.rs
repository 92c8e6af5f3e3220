use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use super::{Assignment, Customer, Invoice, JobFinancials, Technician};
use crate::domain::DomainError;
use crate::entities::{customer, invoice, job, job_assignment, technician};
use crate::graphql::context::ContextExt;
use crate::graphql::enums::{JobPriority, JobStatus};
use crate::graphql::loaders::shared;

#[derive(Clone)]
pub struct Job {
    pub model: job::Model,
    /// The current assignment when the query already fetched it (`jobs`);
    /// otherwise it is loaded on demand.
    assignment: Option<Option<job_assignment::Model>>,
    /// Preloaded for a whole page (`graphql/preload.rs`); else loaded on demand.
    pub customer: Option<customer::Model>,
    pub technician: Option<Option<technician::Model>>,
    /// Read with the job (`jobs::get_detail`), already filtered for billing.
    pub invoice: Option<Option<invoice::Model>>,
}

impl Job {
    pub fn new(model: job::Model) -> Self {
        Job { model, assignment: None, customer: None, technician: None, invoice: None }
    }

    pub fn with_assignment((model, assignment): (job::Model, Option<job_assignment::Model>)) -> Self {
        Job { assignment: Some(assignment), ..Job::new(model) }
    }

    /// The technician of the preloaded assignment, if any.
    pub fn assigned_technician_id(&self) -> Option<uuid::Uuid> {
        self.assignment.as_ref().and_then(|a| a.as_ref().map(|a| a.technician_id))
    }

    async fn current_assignment(&self, ctx: &Context<'_>) -> Result<Option<job_assignment::Model>> {
        match &self.assignment {
            Some(known) => Ok(known.clone()),
            None => Ok(ctx.loaders().assignment_by_job.load_one(self.model.id).await.map_err(shared)?),
        }
    }
}

#[Object]
impl Job {
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
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
    async fn customer(&self, ctx: &Context<'_>) -> Result<Customer> {
        if let Some(customer) = &self.customer {
            return Ok(Customer(customer.clone()));
        }
        let customer = ctx.loaders().customer_by_id.load_one(self.model.customer_id).await.map_err(shared)?;
        Ok(Customer(customer.ok_or_else(|| DomainError::internal("job without customer"))?))
    }
    /// The current assignment, if any.
    async fn assignment(&self, ctx: &Context<'_>) -> Result<Option<Assignment>> {
        Ok(self.current_assignment(ctx).await?.map(Assignment))
    }
    /// Shortcut for `assignment.technician`.
    async fn technician(&self, ctx: &Context<'_>) -> Result<Option<Technician>> {
        if let Some(technician) = &self.technician {
            return Ok(technician.clone().map(Technician));
        }
        let Some(assignment) = self.current_assignment(ctx).await? else { return Ok(None) };
        Ok(ctx.loaders().technician_by_id.load_one(assignment.technician_id).await.map_err(shared)?.map(Technician))
    }
    /// Null for technicians: they never see billing.
    async fn invoice(&self, ctx: &Context<'_>) -> Result<Option<Invoice>> {
        if let Some(invoice) = &self.invoice {
            return Ok(invoice.clone().map(Invoice));
        }
        Ok(ctx.loaders().invoice_by_job.load_one(self.model.id).await.map_err(shared)?.map(Invoice))
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
