use async_graphql::{Context, ID, Object, Result};

use crate::domain::page::PageRequest;
use crate::domain::webhooks;
use crate::graphql::connection::wants_total;
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::types::{Webhook, WebhookConnection};

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Webhooks newest first (ADMIN).
    async fn webhooks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<WebhookConnection> {
        let actor = ctx.actor()?;
        let request = PageRequest::new(first, after.as_deref())?.counting(wants_total(ctx));
        let page = webhooks::list(ctx.db(), actor, request).await?;
        Ok(WebhookConnection::from_page(page, Webhook::new))
    }

    async fn webhook(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Webhook>> {
        let actor = ctx.actor()?;
        Ok(webhooks::get(ctx.db(), actor, ids::parse(&id)).await?.map(Webhook::new))
    }
}
