use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use crate::domain::schedules;
use crate::graphql::context::ContextExt;
use crate::graphql::lenient::Lenient;
use crate::graphql::types::{ScheduleEntry, UpcomingJob};
use crate::graphql::{at_hand, ids};

#[derive(Default)]
pub struct ScheduleQuery;

#[Object]
impl ScheduleQuery {
    /// Every entry of the technician overlapping `[from, to)`, ordered by start.
    async fn schedule(
        &self,
        ctx: &Context<'_>,
        technician_id: ID,
        from: Lenient<DateTime<Utc>>,
        to: Lenient<DateTime<Utc>>,
    ) -> Result<at_hand::List<ScheduleEntry>> {
        let actor = ctx.actor()?;
        let (from, to) = (from.read("from")?, to.read("to")?);
        let technician_id = ids::parse(&technician_id);
        let rows = schedules::list(ctx.db(), actor, technician_id, from, to).await?;
        Ok(rows.into_iter().map(ScheduleEntry::from).collect())
    }

    /// Scheduled and in-progress work that has not ended yet, soonest first.
    // What is upcoming changes with the clock: never a reused answer.
    #[graphql(cache_control(no_cache))]
    async fn upcoming_jobs(&self, ctx: &Context<'_>, technician_id: Option<ID>) -> Result<Vec<UpcomingJob>> {
        let actor = ctx.actor()?;
        let technician_id = technician_id.as_ref().map(ids::parse);
        let rows = schedules::upcoming_jobs(ctx.db(), actor, technician_id).await?;
        Ok(rows.into_iter().map(UpcomingJob::from).collect())
    }
}
