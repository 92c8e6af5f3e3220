use async_graphql::{Context, ID, Object, Result};

use crate::domain::audit::{self, AuditFilter};
use crate::domain::billing;
use crate::domain::page::PageRequest;
use crate::graphql::connection::wants_total;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::InvoiceStatus;
use crate::graphql::ids;
use crate::graphql::types::{Invoice, InvoiceConnection, JobFinancials, LogEntry, LogEntryConnection};

#[derive(Default)]
pub struct BillingQuery;

#[Object]
impl BillingQuery {
    /// Invoices newest first.
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<InvoiceStatus>,
    ) -> Result<InvoiceConnection> {
        let actor = ctx.actor()?;
        let request = PageRequest::new(first, after.as_deref())?.counting(wants_total(ctx));
        let page = billing::list(ctx.db(), actor, request, status.map(Into::into)).await?;
        Ok(InvoiceConnection::from_page(page, Invoice::new))
    }

    async fn invoice(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Invoice>> {
        let actor = ctx.actor()?;
        let id = ids::parse(&id);
        Ok(billing::get(ctx.db(), actor, id).await?.map(Invoice::new))
    }

    async fn job_financials(&self, ctx: &Context<'_>, job_id: ID) -> Result<Option<JobFinancials>> {
        let actor = ctx.actor()?;
        let job_id = ids::parse(&job_id);
        Ok(billing::financials(ctx.db(), actor, job_id).await?.map(JobFinancials))
    }

    /// The journal, newest first (admins only).
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        entity_type: Option<String>,
        entity_id: Option<ID>,
    ) -> Result<LogEntryConnection> {
        let actor = ctx.actor()?;
        let entity_id = entity_id.as_ref().map(ids::parse);
        let filter = AuditFilter { entity_type: entity_type.as_deref(), entity_id };
        let page = audit::list(ctx.db(), actor, first, after.as_deref(), wants_total(ctx), filter).await?;
        Ok(LogEntryConnection::from_page(page, LogEntry))
    }

    /// The journal oldest first, for integrations and warehouses; cursors
    /// are the subscriptions' cursors (admins only).
    async fn changes(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        entity_types: Option<Vec<String>>,
    ) -> Result<LogEntryConnection> {
        let actor = ctx.actor()?;
        let page =
            audit::changes(ctx.db(), actor, first, after.as_deref(), wants_total(ctx), entity_types.as_deref()).await?;
        Ok(LogEntryConnection::from_page(page, LogEntry))
    }
}
