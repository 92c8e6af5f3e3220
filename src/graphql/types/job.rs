use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use super::{Assignment, Customer, Invoice, JobFinancials, Technician};
use crate::domain::{DomainError, billing};
use crate::entities::enums::{JobPriority, JobStatus};
use crate::entities::job;
use crate::graphql::context::ContextExt;
use crate::graphql::loaders::shared;

#[derive(Clone)]
pub struct Job(pub job::Model);

#[Object]
impl Job {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn status(&self) -> JobStatus {
        self.0.status
    }
    async fn priority(&self) -> JobPriority {
        self.0.priority
    }
    async fn required_skill_level(&self) -> i32 {
        self.0.required_skill_level
    }
    async fn customer(&self, ctx: &Context<'_>) -> Result<Customer> {
        let customer = ctx.loaders().customer_by_id.load_one(self.0.customer_id).await.map_err(shared)?;
        Ok(Customer(customer.ok_or_else(|| DomainError::internal("job without customer"))?))
    }
    /// The current assignment, if any.
    async fn assignment(&self, ctx: &Context<'_>) -> Result<Option<Assignment>> {
        Ok(ctx.loaders().assignment_by_job.load_one(self.0.id).await.map_err(shared)?.map(Assignment))
    }
    /// Shortcut for `assignment.technician`.
    async fn technician(&self, ctx: &Context<'_>) -> Result<Option<Technician>> {
        let loaders = ctx.loaders();
        let Some(assignment) = loaders.assignment_by_job.load_one(self.0.id).await.map_err(shared)? else {
            return Ok(None);
        };
        Ok(loaders.technician_by_id.load_one(assignment.technician_id).await.map_err(shared)?.map(Technician))
    }
    /// Null for technicians: they never see billing.
    async fn invoice(&self, ctx: &Context<'_>) -> Result<Option<Invoice>> {
        if !billing::sees_billing(ctx.actor()?) {
            return Ok(None);
        }
        Ok(ctx.loaders().invoice_by_job.load_one(self.0.id).await.map_err(shared)?.map(Invoice))
    }
    /// Row of the job_financials view; null for technicians.
    async fn financials(&self, ctx: &Context<'_>) -> Result<Option<JobFinancials>> {
        if !billing::sees_billing(ctx.actor()?) {
            return Ok(None);
        }
        Ok(ctx.loaders().financials_by_job.load_one(self.0.id).await.map_err(shared)?.map(JobFinancials))
    }
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.0.cancelled_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

crate::graphql::connection::connection_types!(JobConnection, JobEdge, Job);
