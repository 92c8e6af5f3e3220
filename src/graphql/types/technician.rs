use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{ScheduleEntry, UpcomingJob, User};
use crate::domain::{clock, money};
use crate::entities::technician;
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::lenient::Lenient;
use crate::graphql::loaders::shared;

#[derive(Clone)]
pub struct Technician(pub technician::Model);

#[Object]
impl Technician {
    async fn id(&self) -> ID {
        ids::of(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// 1 (apprentice) .. 5 (master)
    async fn skill_level(&self) -> i32 {
        self.0.skill_level
    }
    async fn hourly_rate(&self) -> Decimal {
        money::from_cents(self.0.hourly_rate_cents)
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn base_latitude(&self) -> Option<f64> {
        self.0.base_latitude
    }
    async fn base_longitude(&self) -> Option<f64> {
        self.0.base_longitude
    }
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(user_id) = self.0.user_id else {
            return Ok(None);
        };
        let loaders = ctx.loaders();
        Ok(loaders.user_by_id.load_one(user_id).await.map_err(shared)?.map(User))
    }
    // Both calendars load through DataLoaders: one statement for a whole list.
    // What is upcoming changes with the clock: never a reused answer.
    #[graphql(cache_control(no_cache))]
    async fn upcoming_jobs(&self, ctx: &Context<'_>) -> Result<Vec<UpcomingJob>> {
        let rows = ctx.loaders().upcoming_by_technician.load_one(self.0.id).await.map_err(shared)?;
        Ok(rows.unwrap_or_default().into_iter().map(UpcomingJob::from).collect())
    }
    /// Entries overlapping `[from, to)`, ordered by start.
    async fn schedule(
        &self,
        ctx: &Context<'_>,
        from: Lenient<DateTime<Utc>>,
        to: Lenient<DateTime<Utc>>,
    ) -> Result<Vec<ScheduleEntry>> {
        let (from, to) = (from.read("from")?, to.read("to")?);
        let key = (self.0.id, clock::truncate(from), clock::truncate(to));
        let rows = ctx.loaders().schedule_by_technician.load_one(key).await.map_err(shared)?;
        Ok(rows.unwrap_or_default().into_iter().map(ScheduleEntry::from).collect())
    }
}

crate::graphql::connection::connection_types!(TechnicianConnection, TechnicianEdge, Technician);
