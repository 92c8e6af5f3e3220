use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use crate::domain::jobs::{self, JobFilter};
use crate::domain::page::PageRequest;
use crate::graphql::connection::wants_total;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::JobStatus;
use crate::graphql::lenient::{Lenient, read_optional};
use crate::graphql::types::{Job, JobConnection};
use crate::graphql::{at_hand, ids, preload};

#[derive(InputObject, Default)]
#[graphql(name = "JobFilter")]
pub struct JobFilterInput {
    pub status: Option<Vec<JobStatus>>,
    pub technician_id: Option<ID>,
    pub customer_id: Option<ID>,
    /// The assignment window overlaps `[scheduledFrom, scheduledTo)`.
    pub scheduled_from: Option<Lenient<DateTime<Utc>>>,
    pub scheduled_to: Option<Lenient<DateTime<Utc>>>,
}

#[derive(Default)]
pub struct JobQuery;

#[Object]
impl JobQuery {
    /// Jobs newest first (a technician sees only jobs assigned to it).
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<JobFilterInput>,
    ) -> Result<JobConnection> {
        let actor = ctx.actor()?;
        let request = PageRequest::new(first, after.as_deref())?.counting(wants_total(ctx));
        let filter = filter.unwrap_or_default();
        // An ID that names nothing matches nothing.
        let filter = JobFilter {
            statuses: filter.status.map(|s| s.into_iter().map(Into::into).collect()),
            technician_id: filter.technician_id.as_ref().map(ids::parse),
            customer_id: filter.customer_id.as_ref().map(ids::parse),
            scheduled_from: read_optional(filter.scheduled_from, "scheduledFrom")?,
            scheduled_to: read_optional(filter.scheduled_to, "scheduledTo")?,
        };
        if preload::wants_parties(ctx.look_ahead()) {
            // The board: customers and technicians in the page's own statement,
            // as cards when they answer every field asked.
            if preload::cards_suffice(ctx.field()) {
                let unread = preload::unread(ctx.field());
                let page = jobs::list_cards_with_parties(ctx.db(), actor, request, filter, unread).await?;
                return Ok(JobConnection::from_page(page, |row| preload::cards_with_parties(row, unread)));
            }
            let page = jobs::list_with_parties(ctx.db(), actor, request, filter).await?;
            return Ok(JobConnection::from_page(page, preload::with_parties));
        }
        let page = jobs::list(ctx.db(), actor, request, filter).await?;
        Ok(JobConnection::from_page(page, Job::with_assignment))
    }

    async fn job(&self, ctx: &Context<'_>, id: ID) -> Result<Option<at_hand::One<Job>>> {
        let actor = ctx.actor()?;
        let id = ids::parse(&id);
        if preload::wants_detail_of_one(ctx.look_ahead()) {
            let with_invoice_items = preload::wants_invoice_items(ctx.look_ahead());
            let detail = jobs::get_detail(ctx.db(), actor, id, with_invoice_items).await?;
            return Ok(detail.map(|detail| at_hand::One(preload::detail(detail))));
        }
        Ok(jobs::get(ctx.db(), actor, id).await?.map(|row| at_hand::One(Job::with_assignment(row))))
    }
}
