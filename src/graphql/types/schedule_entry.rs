use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use super::{Job, Technician};
use crate::domain::DomainError;
use crate::domain::schedules::{EntryWithJob, UpcomingWithJob};
use crate::entities::{job, schedule, technician_upcoming_job};
use crate::graphql::at_hand::{FieldsAtHand, Selected, Written};
use crate::graphql::context::ContextExt;
use crate::graphql::enums::ScheduleKind;
use crate::graphql::ids;
use crate::graphql::loaders::shared;

/// A calendar entry; its job comes along when the entry was read with it.
#[derive(Clone)]
pub struct ScheduleEntry(pub schedule::Model, pub Option<job::Card>);

impl From<EntryWithJob> for ScheduleEntry {
    fn from((entry, job): EntryWithJob) -> Self {
        ScheduleEntry(entry, job)
    }
}

#[Object]
impl ScheduleEntry {
    async fn id(&self) -> ID {
        ids::of(self.0.id)
    }
    async fn technician(&self, ctx: &Context<'_>) -> Result<Technician> {
        load_technician(ctx, self.0.technician_id).await
    }
    async fn kind(&self) -> ScheduleKind {
        self.0.kind.into()
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// Set for kind JOB.
    async fn job(&self, ctx: &Context<'_>) -> Result<Option<Box<Job>>> {
        let Some(job_id) = self.0.job_id else { return Ok(None) };
        if let Some(job) = &self.1 {
            return Ok(Some(Box::new(Job::card(job.clone()))));
        }
        Ok(ctx.loaders().job_by_id.load_one(job_id).await.map_err(shared)?.map(|job| Box::new(Job::new(job))))
    }
}

/// Its technician is loaded: not at hand; its job is when read with it.
impl FieldsAtHand for ScheduleEntry {
    fn field_at_hand(&self, name: &str, selected: Selected<'_>, out: &mut Written) -> Option<()> {
        match name {
            "id" => out.id(self.0.id),
            "kind" => out.enumerated::<ScheduleKind>(self.0.kind),
            "startsAt" => out.datetime(&self.0.starts_at),
            "endsAt" => out.datetime(&self.0.ends_at),
            "note" => out.optional_text(&self.0.note),
            "job" => match (self.0.job_id, &self.1) {
                (None, _) => out.null(),
                (Some(_), Some(job)) => out.object(&Job::card(job.clone()), selected)?,
                (Some(_), None) => return None,
            },
            _ => return None,
        }
        Some(())
    }
}

/// A row of the `technician_upcoming_jobs` view.
#[derive(Clone)]
pub struct UpcomingJob(pub technician_upcoming_job::Model, pub Option<job::Model>);

impl From<UpcomingWithJob> for UpcomingJob {
    fn from((row, job): UpcomingWithJob) -> Self {
        UpcomingJob(row, job)
    }
}

#[Object]
impl UpcomingJob {
    async fn job(&self, ctx: &Context<'_>) -> Result<Box<Job>> {
        let job = match &self.1 {
            Some(job) => Some(job.clone()),
            None => ctx.loaders().job_by_id.load_one(self.0.job_id).await.map_err(shared)?,
        };
        Ok(Box::new(Job::new(job.ok_or_else(|| DomainError::internal("upcoming job vanished"))?)))
    }
    async fn technician(&self, ctx: &Context<'_>) -> Result<Technician> {
        load_technician(ctx, self.0.technician_id).await
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
}

async fn load_technician(ctx: &Context<'_>, id: uuid::Uuid) -> Result<Technician> {
    let technician = ctx.loaders().technician_by_id.load_one(id).await.map_err(shared)?;
    Ok(Technician::new(technician.ok_or_else(|| DomainError::internal("technician vanished"))?))
}
