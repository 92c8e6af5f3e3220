use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};

use super::{Invoice, Job, Payment, User, on_heap};
use crate::domain::cursor::Cursor;
use crate::domain::live;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::{InvoiceEventKind, JobEventKind};
use crate::graphql::loaders::shared;
use crate::journal::Event;

/// A change of a job, built from its journal entry.
pub struct JobEvent {
    pub entry: Event,
    pub kind: JobEventKind,
}

#[Object]
impl JobEvent {
    /// Opaque, strictly increasing; pass as `after` to resume.
    async fn cursor(&self) -> String {
        Cursor::Journal(self.entry.id).encode()
    }
    async fn kind(&self) -> JobEventKind {
        self.kind
    }
    /// The job as it was when this event was first delivered.
    async fn job(&self, ctx: &Context<'_>) -> Result<Box<Job>> {
        Ok(Box::new(Job::new(on_heap(live::job_of(&ctx.services().bus, &self.entry)).await?)))
    }
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(actor_id) = self.entry.actor_id else { return Ok(None) };
        Ok(ctx.loaders().user_by_id.load_one(actor_id).await.map_err(shared)?.map(User))
    }
    async fn at(&self) -> DateTime<Utc> {
        self.entry.at
    }
}

/// A change of an invoice, built from its journal entry.
pub struct InvoiceEvent {
    pub entry: Event,
    pub kind: InvoiceEventKind,
}

#[Object]
impl InvoiceEvent {
    async fn cursor(&self) -> String {
        Cursor::Journal(self.entry.id).encode()
    }
    async fn kind(&self) -> InvoiceEventKind {
        self.kind
    }
    async fn invoice(&self, ctx: &Context<'_>) -> Result<Invoice> {
        Ok(Invoice::new(on_heap(live::invoice_of(&ctx.services().bus, &self.entry)).await?))
    }
    /// Set for PAYMENT_RECORDED and PAID.
    async fn payment(&self, ctx: &Context<'_>) -> Result<Option<Payment>> {
        let Some(payment_id) = self.entry.change.payment_id() else { return Ok(None) };
        Ok(ctx.loaders().payment_by_id.load_one(payment_id).await.map_err(shared)?.map(Payment))
    }
    async fn at(&self) -> DateTime<Utc> {
        self.entry.at
    }
}
