use std::borrow::Cow;

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::record::{Record, either, read_at_hand, read_field};
use super::{ScheduleEntry, UpcomingJob, User};
use crate::domain::{clock, money};
use crate::entities::positional::Unread;
use crate::entities::technician;
use crate::graphql::at_hand::{self, FieldsAtHand, Selected, Written};
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::lenient::Lenient;
use crate::graphql::loaders::shared;

#[derive(Clone)]
pub struct Technician(Record<technician::Model, technician::Card>);

impl Technician {
    /// Fields that need more than the technician's card (`technician::Card`).
    pub const WHOLE_ONLY: &[&str] = &["skillLevel", "hourlyRate", "active", "baseLatitude", "baseLongitude", "user"];

    pub fn new(model: technician::Model) -> Self {
        Technician(Record::Whole(model))
    }

    /// A card, `unread`'s fields left unread (loaded whole when asked).
    pub fn card(card: technician::Card, unread: Unread<technician::Card>) -> Self {
        Technician(Record::Card(card, unread))
    }

    pub fn row_id(&self) -> Uuid {
        *either!(self.0, id)
    }

    /// Every column (loaded, batched, when only the card was read).
    async fn whole(&self, ctx: &Context<'_>) -> Result<Cow<'_, technician::Model>> {
        Ok(self.0.whole("technician", |card| ctx.loaders().technician_by_id.load_one(card.id)).await?)
    }
}

#[Object]
impl Technician {
    async fn id(&self) -> ID {
        ids::of(self.row_id())
    }
    async fn name(&self) -> &str {
        either!(self.0, name)
    }
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        read_field!(self, ctx, email)
    }
    async fn phone(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        read_field!(self, ctx, phone)
    }
    /// 1 (apprentice) .. 5 (master)
    async fn skill_level(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(self.whole(ctx).await?.skill_level)
    }
    async fn hourly_rate(&self, ctx: &Context<'_>) -> Result<Decimal> {
        Ok(money::from_cents(self.whole(ctx).await?.hourly_rate_cents))
    }
    async fn active(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.whole(ctx).await?.active)
    }
    async fn base_latitude(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(self.whole(ctx).await?.base_latitude)
    }
    async fn base_longitude(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(self.whole(ctx).await?.base_longitude)
    }
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(user_id) = self.whole(ctx).await?.user_id else {
            return Ok(None);
        };
        let loaders = ctx.loaders();
        Ok(loaders.user_by_id.load_one(user_id).await.map_err(shared)?.map(User))
    }
    // Both calendars load through DataLoaders: one statement for a whole list.
    // What is upcoming changes with the clock: never a reused answer.
    #[graphql(cache_control(no_cache))]
    async fn upcoming_jobs(&self, ctx: &Context<'_>) -> Result<Vec<UpcomingJob>> {
        let rows = ctx.loaders().upcoming_by_technician.load_one(self.row_id()).await.map_err(shared)?;
        Ok(rows.unwrap_or_default().into_iter().map(UpcomingJob::from).collect())
    }
    /// Entries overlapping `[from, to)`, ordered by start.
    async fn schedule(
        &self,
        ctx: &Context<'_>,
        from: Lenient<DateTime<Utc>>,
        to: Lenient<DateTime<Utc>>,
    ) -> Result<at_hand::List<ScheduleEntry>> {
        let (from, to) = (from.read("from")?, to.read("to")?);
        let key = (self.row_id(), clock::truncate(from), clock::truncate(to));
        let rows = ctx.loaders().schedule_by_technician.load_one(key).await.map_err(shared)?;
        Ok(rows.unwrap_or_default().into_iter().map(ScheduleEntry::from).collect())
    }
}

impl FieldsAtHand for Technician {
    fn field_at_hand(&self, name: &str, _: Selected<'_>, out: &mut Written) -> Option<()> {
        let whole = || self.0.whole_at_hand();
        match name {
            "id" => out.id(self.row_id()),
            "name" => out.text(either!(self.0, name)),
            "email" => out.optional_text(read_at_hand!(self.0, email)?),
            "phone" => out.optional_text(read_at_hand!(self.0, phone)?),
            "skillLevel" => out.scalar(&whole()?.skill_level),
            "hourlyRate" => out.scalar(&money::from_cents(whole()?.hourly_rate_cents)),
            "active" => out.scalar(&whole()?.active),
            "baseLatitude" => out.optional(&whole()?.base_latitude),
            "baseLongitude" => out.optional(&whole()?.base_longitude),
            _ => return None,
        }
        Some(())
    }
}

crate::graphql::connection::connection_types!(TechnicianConnection, TechnicianEdge, Technician, at_hand);
