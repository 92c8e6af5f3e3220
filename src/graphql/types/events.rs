use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};

use super::{Invoice, Job, Payment, User};
use crate::domain::DomainError;
use crate::domain::live::{InvoiceEventKind, JobEventKind, payment_of};
use crate::entities::{invoice, job};
use crate::events::{Event, cursor};
use crate::graphql::context::ContextExt;
use crate::graphql::loaders::shared;
use sea_orm::EntityTrait;

/// A change of a job, built from its journal row.
pub struct JobEvent {
    pub row: Event,
    pub kind: JobEventKind,
}

#[Object]
impl JobEvent {
    /// Opaque, strictly increasing; pass as `after` to resume.
    async fn cursor(&self) -> String {
        cursor::encode(self.row.id)
    }
    async fn kind(&self) -> JobEventKind {
        self.kind
    }
    /// The job as it was when this event was first delivered.
    async fn job(&self, ctx: &Context<'_>) -> Result<Job> {
        let bus = &ctx.services().bus;
        let (id, db) = (self.row.entity_id, bus.db());
        let job =
            bus.jobs.get_or_load(self.row.id, || async move { Ok(job::Entity::find_by_id(id).one(db).await?) }).await?;
        Ok(Job::new(job.ok_or(DomainError::NotFound("job"))?))
    }
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(actor_id) = self.row.actor_id else { return Ok(None) };
        Ok(ctx.loaders().user_by_id.load_one(actor_id).await.map_err(shared)?.map(User))
    }
    async fn at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
}

/// A change of an invoice, built from its journal row.
pub struct InvoiceEvent {
    pub row: Event,
    pub kind: InvoiceEventKind,
}

#[Object]
impl InvoiceEvent {
    async fn cursor(&self) -> String {
        cursor::encode(self.row.id)
    }
    async fn kind(&self) -> InvoiceEventKind {
        self.kind
    }
    async fn invoice(&self, ctx: &Context<'_>) -> Result<Invoice> {
        let bus = &ctx.services().bus;
        let (id, db) = (self.row.entity_id, bus.db());
        let invoice = bus
            .invoices
            .get_or_load(self.row.id, || async move { Ok(invoice::Entity::find_by_id(id).one(db).await?) })
            .await?;
        Ok(Invoice(invoice.ok_or(DomainError::NotFound("invoice"))?))
    }
    /// Set for PAYMENT_RECORDED and PAID.
    async fn payment(&self, ctx: &Context<'_>) -> Result<Option<Payment>> {
        let Some(payment_id) = payment_of(&self.row) else { return Ok(None) };
        Ok(ctx.loaders().payment_by_id.load_one(payment_id).await.map_err(shared)?.map(Payment))
    }
    async fn at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
}
