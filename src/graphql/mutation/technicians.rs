use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use rust_decimal::Decimal;

use crate::domain::location::Patch;
use crate::domain::technicians::{self, TechnicianFields};
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::lenient::{Lenient, patch, read_optional};
use crate::graphql::types::Technician;

#[derive(InputObject)]
pub struct CreateTechnicianInput {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub skill_level: i32,
    pub hourly_rate: Lenient<Decimal>,
    #[graphql(default_with = "Some(true)")]
    pub active: Option<bool>,
    /// Link to a TECHNICIAN login.
    pub user_id: Option<ID>,
    pub base_latitude: Option<f64>,
    pub base_longitude: Option<f64>,
}

#[derive(InputObject)]
pub struct UpdateTechnicianInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub skill_level: Option<i32>,
    pub hourly_rate: Option<Lenient<Decimal>>,
    pub active: Option<bool>,
    pub user_id: Option<ID>,
    pub base_latitude: MaybeUndefined<f64>,
    pub base_longitude: MaybeUndefined<f64>,
}

#[derive(Default)]
pub struct TechnicianMutation;

#[Object]
impl TechnicianMutation {
    async fn create_technician(&self, ctx: &Context<'_>, input: CreateTechnicianInput) -> Result<Technician> {
        let actor = ctx.actor()?;
        let fields = TechnicianFields {
            name: Some(input.name),
            email: input.email,
            phone: input.phone,
            skill_level: Some(input.skill_level),
            hourly_rate: Some(input.hourly_rate.read("hourlyRate")?),
            active: input.active,
            user_id: input.user_id.as_ref().map(ids::parse),
            base_latitude: Patch::from_option(input.base_latitude),
            base_longitude: Patch::from_option(input.base_longitude),
        };
        Ok(Technician::new(technicians::create(ctx.pool(), actor, fields).await?))
    }

    async fn update_technician(&self, ctx: &Context<'_>, id: ID, input: UpdateTechnicianInput) -> Result<Technician> {
        let actor = ctx.actor()?;
        let hourly_rate = read_optional(input.hourly_rate, "hourlyRate")?;
        let id = ids::parse(&id);
        let fields = TechnicianFields {
            name: input.name,
            email: input.email,
            phone: input.phone,
            skill_level: input.skill_level,
            hourly_rate,
            active: input.active,
            user_id: input.user_id.as_ref().map(ids::parse),
            base_latitude: patch(input.base_latitude),
            base_longitude: patch(input.base_longitude),
        };
        Ok(Technician::new(technicians::update(ctx.pool(), actor, id, fields).await?))
    }
}
