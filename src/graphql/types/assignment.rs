use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use super::{Job, Technician};
use crate::domain::DomainError;
use crate::entities::job_assignment;
use crate::graphql::at_hand::{FieldsAtHand, Selected, Written};
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::loaders::shared;

#[derive(Clone)]
pub struct Assignment(pub job_assignment::Model);

#[Object]
impl Assignment {
    async fn id(&self) -> ID {
        ids::of(self.0.id)
    }
    async fn job(&self, ctx: &Context<'_>) -> Result<Box<Job>> {
        let job = ctx.loaders().job_by_id.load_one(self.0.job_id).await.map_err(shared)?;
        Ok(Box::new(Job::new(job.ok_or_else(|| DomainError::internal("assignment without job"))?)))
    }
    async fn technician(&self, ctx: &Context<'_>) -> Result<Technician> {
        let technician = ctx.loaders().technician_by_id.load_one(self.0.technician_id).await.map_err(shared)?;
        Ok(Technician::new(technician.ok_or_else(|| DomainError::internal("assignment without technician"))?))
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
}

/// Its job and technician are loaded: not at hand.
impl FieldsAtHand for Assignment {
    fn field_at_hand(&self, name: &str, _: Selected<'_>, out: &mut Written) -> Option<()> {
        match name {
            "id" => out.id(self.0.id),
            "startsAt" => out.datetime(&self.0.starts_at),
            "endsAt" => out.datetime(&self.0.ends_at),
            _ => return None,
        }
        Some(())
    }
}
