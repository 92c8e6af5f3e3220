use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use crate::domain::jobs::{self, Assignment, NewJob};
use crate::graphql::context::ContextExt;
use crate::graphql::enums::JobPriority;
use crate::graphql::ids;
use crate::graphql::lenient::Lenient;
use crate::graphql::types::Job;

#[derive(InputObject)]
pub struct CreateJobInput {
    pub customer_id: ID,
    pub title: String,
    pub description: Option<String>,
    #[graphql(default_with = "Some(JobPriority::Normal)")]
    pub priority: Option<JobPriority>,
    #[graphql(default_with = "Some(1)")]
    pub required_skill_level: Option<i32>,
}

#[derive(InputObject)]
pub struct AssignJobInput {
    pub job_id: ID,
    pub technician_id: ID,
    pub starts_at: Lenient<DateTime<Utc>>,
    pub ends_at: Lenient<DateTime<Utc>>,
}

#[derive(Default)]
pub struct JobMutation;

#[Object]
impl JobMutation {
    async fn create_job(&self, ctx: &Context<'_>, input: CreateJobInput) -> Result<Job> {
        let actor = ctx.actor()?;
        let new_job = NewJob {
            customer_id: ids::parse(&input.customer_id),
            title: input.title,
            description: input.description,
            priority: input.priority.unwrap_or(JobPriority::Normal).into(),
            required_skill_level: input.required_skill_level.unwrap_or(1),
        };
        Ok(Job::new(jobs::create(ctx.pool(), actor, new_job).await?))
    }

    /// Books the job into the technician's calendar (or moves it there).
    async fn assign_job(&self, ctx: &Context<'_>, input: AssignJobInput) -> Result<Job> {
        let actor = ctx.actor()?;
        // Unreadable input is refused before anything is looked up.
        let (starts_at, ends_at) = (input.starts_at.read("startsAt")?, input.ends_at.read("endsAt")?);
        let assignment = Assignment {
            job_id: ids::parse(&input.job_id),
            technician_id: ids::parse(&input.technician_id),
            starts_at,
            ends_at,
        };
        Ok(Job::new(jobs::assign(ctx.pool(), actor, assignment).await?))
    }

    async fn unassign_job(&self, ctx: &Context<'_>, job_id: ID) -> Result<Job> {
        let actor = ctx.actor()?;
        Ok(Job::new(jobs::unassign(ctx.pool(), actor, ids::parse(&job_id)).await?))
    }

    async fn start_job(&self, ctx: &Context<'_>, job_id: ID) -> Result<Job> {
        let actor = ctx.actor()?;
        Ok(Job::new(jobs::start(ctx.pool(), actor, ids::parse(&job_id)).await?))
    }

    async fn cancel_job(&self, ctx: &Context<'_>, job_id: ID, reason: Option<String>) -> Result<Job> {
        let actor = ctx.actor()?;
        Ok(Job::new(jobs::cancel(ctx.pool(), actor, ids::parse(&job_id), reason).await?))
    }
}
