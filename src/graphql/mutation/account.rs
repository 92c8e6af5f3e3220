use async_graphql::{Context, ID, InputObject, Object, Result};

use crate::domain::users::{self, NewUser, UserChanges};
use crate::entities::enums::Role;
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::types::{AuthPayload, User};

#[derive(InputObject)]
pub struct RegisterInput {
    pub email: String,
    /// at least 12 characters
    pub password: String,
    pub name: String,
    pub role: Role,
}

#[derive(InputObject)]
pub struct UpdateUserInput {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Create an account. Anonymous only for the very first one (an ADMIN).
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<AuthPayload> {
        let actor = ctx.optional_actor()?;
        let services = ctx.services();
        let new_user = NewUser { email: input.email, password: input.password, name: input.name, role: input.role };
        Ok(users::register(&services.db, &services.tokens, actor, new_user).await?.into())
    }

    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> Result<AuthPayload> {
        let services = ctx.services();
        let client = ctx.request().client_ip;
        Ok(users::login(&services.db, &services.tokens, &services.limiter, client, &email, password).await?.into())
    }

    async fn update_user(&self, ctx: &Context<'_>, id: ID, input: UpdateUserInput) -> Result<User> {
        let actor = ctx.actor()?;
        let id = ids::require(&id, "user")?;
        let changes = UserChanges { name: input.name, role: input.role, active: input.active };
        Ok(User(users::update(ctx.db(), actor, id, changes).await?))
    }
}
