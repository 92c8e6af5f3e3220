//! Subscription root: live feeds built from the journal via the event bus.
//! Authorization is checked per event (see `domain::live`).

use std::sync::Arc;

use async_graphql::{Context, ID, Result, Subscription};
use futures_util::{Stream, StreamExt};

use super::context::ContextExt;
use super::enums::{InvoiceEventKind, JobEventKind};
use super::ids;
use super::types::{InvoiceEvent, JobEvent};
use crate::domain::live;
use crate::journal::feed::feed;

#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Job changes (all jobs, or one), optionally resuming after a cursor.
    /// A technician receives only events of jobs assigned to it.
    async fn job_changed(
        &self,
        ctx: &Context<'_>,
        job_id: Option<ID>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = JobEvent> + use<>> {
        let actor = ctx.actor()?.clone();
        let services = Arc::clone(ctx.services());
        let after = live::resume_point(ctx.db(), after.as_deref()).await?;
        let only = job_id.as_ref().map(ids::parse);
        let events = feed(services.bus.clone(), after).filter_map(move |entry| {
            let services = Arc::clone(&services);
            let actor = actor.clone();
            async move {
                let kind = JobEventKind::of(&entry.change)?;
                if only.is_some_and(|id| id != entry.entity_id) {
                    return None;
                }
                match live::sees_job_event(&services.bus, &actor, &entry).await {
                    Ok(true) => Some(JobEvent { entry, kind }),
                    Ok(false) => None,
                    Err(err) => {
                        tracing::warn!(%err, "could not check a job event; skipped");
                        None
                    }
                }
            }
        });
        Ok(events)
    }

    /// Invoice changes (all invoices, or one): staff only.
    async fn invoice_changed(
        &self,
        ctx: &Context<'_>,
        invoice_id: Option<ID>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = InvoiceEvent> + use<>> {
        let actor = ctx.actor()?;
        live::require_invoice_events(actor)?;
        let services = ctx.services();
        let after = live::resume_point(ctx.db(), after.as_deref()).await?;
        let only = invoice_id.as_ref().map(ids::parse);
        let events = feed(services.bus.clone(), after).filter_map(move |entry| async move {
            let kind = InvoiceEventKind::of(&entry.change)?;
            if only.is_some_and(|id| id != entry.entity_id) {
                return None;
            }
            Some(InvoiceEvent { entry, kind })
        });
        Ok(events)
    }
}
