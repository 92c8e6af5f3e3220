use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use crate::domain::page::PageRequest;
use crate::domain::{schedules, technicians};
use crate::graphql::connection::wants_total;
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::lenient::Lenient;
use crate::graphql::types::{Technician, TechnicianConnection};

#[derive(Default)]
pub struct TechnicianQuery;

#[Object]
impl TechnicianQuery {
    async fn technicians(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        active: Option<bool>,
    ) -> Result<TechnicianConnection> {
        let actor = ctx.actor()?;
        let request = PageRequest::new(first, after.as_deref())?.counting(wants_total(ctx));
        let page = technicians::list(ctx.db(), actor, request, active).await?;
        Ok(TechnicianConnection::from_page(page, Technician::new))
    }

    async fn technician(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Technician>> {
        let actor = ctx.actor()?;
        let id = ids::parse(&id);
        Ok(technicians::get(ctx.db(), actor, id).await?.map(Technician::new))
    }

    /// Active technicians with the skill and nothing booked or blocked in the window.
    async fn available_technicians(
        &self,
        ctx: &Context<'_>,
        starts_at: Lenient<DateTime<Utc>>,
        ends_at: Lenient<DateTime<Utc>>,
        min_skill_level: Option<i32>,
    ) -> Result<Vec<Technician>> {
        let actor = ctx.actor()?;
        let (starts_at, ends_at) = (starts_at.read("startsAt")?, ends_at.read("endsAt")?);
        let rows = schedules::available_technicians(ctx.db(), actor, starts_at, ends_at, min_skill_level).await?;
        Ok(rows.into_iter().map(Technician::new).collect())
    }
}
