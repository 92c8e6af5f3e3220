use async_graphql::{Context, Object, Result};

use crate::domain::{page::PageRequest, users};
use crate::graphql::connection::wants_total;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::Role;
use crate::graphql::types::{User, UserConnection};

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The caller's own account.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let actor = ctx.actor()?;
        Ok(User(users::me(ctx.db(), actor).await?))
    }

    /// Every account, newest first (admins only).
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        role: Option<Role>,
    ) -> Result<UserConnection> {
        let actor = ctx.actor()?;
        let request = PageRequest::new(first, after.as_deref())?.counting(wants_total(ctx));
        let page = users::list(ctx.db(), actor, request, role.map(Into::into)).await?;
        Ok(UserConnection::from_page(page, User))
    }
}
