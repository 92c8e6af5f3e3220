use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use crate::domain::schedules::{self, NewEntry};
use crate::graphql::context::ContextExt;
use crate::graphql::enums::ScheduleKind;
use crate::graphql::ids;
use crate::graphql::lenient::Lenient;
use crate::graphql::types::ScheduleEntry;

#[derive(InputObject)]
pub struct CreateScheduleEntryInput {
    pub technician_id: ID,
    /// AVAILABLE or UNAVAILABLE; JOB entries come from assignJob.
    pub kind: ScheduleKind,
    pub starts_at: Lenient<DateTime<Utc>>,
    pub ends_at: Lenient<DateTime<Utc>>,
    pub note: Option<String>,
}

#[derive(Default)]
pub struct ScheduleMutation;

#[Object]
impl ScheduleMutation {
    async fn create_schedule_entry(&self, ctx: &Context<'_>, input: CreateScheduleEntryInput) -> Result<ScheduleEntry> {
        let actor = ctx.actor()?;
        let entry = NewEntry {
            technician_id: ids::parse(&input.technician_id),
            kind: input.kind.into(),
            starts_at: input.starts_at.read("startsAt")?,
            ends_at: input.ends_at.read("endsAt")?,
            note: input.note,
        };
        Ok(ScheduleEntry(schedules::create(ctx.pool(), actor, entry).await?, None))
    }

    async fn delete_schedule_entry(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let actor = ctx.actor()?;
        Ok(schedules::delete(ctx.pool(), actor, ids::parse(&id)).await?)
    }
}
