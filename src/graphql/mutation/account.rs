use async_graphql::{Context, ID, InputObject, Object, Result};

use crate::domain::users::{self, NewUser, UserChanges};
use crate::graphql::context::ContextExt;
use crate::graphql::enums::Role;
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
    /// ADMIN reset: ends every session of that user.
    pub password: Option<String>,
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Create an account. Anonymous only for the very first one (an ADMIN).
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<AuthPayload> {
        let actor = ctx.optional_actor()?;
        let services = ctx.services();
        let new_user =
            NewUser { email: input.email, password: input.password, name: input.name, role: input.role.into() };
        Ok(users::register(&services.db, &services.tokens, actor, new_user).await?.into())
    }

    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> Result<AuthPayload> {
        let services = ctx.services();
        let client = ctx.request().client_ip;
        Ok(users::login(&services.db, &services.tokens, &services.limiter, client, &email, password).await?.into())
    }

    /// The caller's own password; every earlier token of the caller stops working.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<AuthPayload> {
        let actor = ctx.actor()?;
        let services = ctx.services();
        let client = ctx.request().client_ip;
        let session = users::change_password(
            &services.db,
            &services.tokens,
            &services.limiter,
            client,
            actor,
            current_password,
            new_password,
        )
        .await?;
        Ok(session.into())
    }

    /// Ends every session of a user (the caller's own when userId is omitted; others' ADMIN only).
    async fn revoke_sessions(&self, ctx: &Context<'_>, user_id: Option<ID>) -> Result<bool> {
        let actor = ctx.actor()?;
        // A malformed id names nobody: FORBIDDEN unless an admin asks, then NOT_FOUND.
        let user_id = user_id.as_ref().map(ids::parse);
        Ok(users::revoke_sessions(ctx.pool(), actor, user_id).await?)
    }

    async fn update_user(&self, ctx: &Context<'_>, id: ID, input: UpdateUserInput) -> Result<User> {
        let actor = ctx.actor()?;
        let id = ids::parse(&id);
        let changes = UserChanges {
            name: input.name,
            role: input.role.map(Into::into),
            active: input.active,
            password: input.password,
        };
        Ok(User(users::update(ctx.pool(), actor, id, changes).await?))
    }
}
