use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result};

use crate::domain::webhooks::{self, NewWebhook, WebhookChanges};
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::types::{Webhook, WebhookDelivery, WebhookWithSecret};

#[derive(InputObject)]
pub struct CreateWebhookInput {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// Only the given fields change; an empty description clears it.
#[derive(InputObject)]
pub struct UpdateWebhookInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    pub description: Option<String>,
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// The answer is the only time the signing secret is shown (with a rotation).
    async fn create_webhook(&self, ctx: &Context<'_>, input: CreateWebhookInput) -> Result<WebhookWithSecret> {
        let actor = ctx.actor()?;
        let new = NewWebhook { url: input.url, events: input.events, description: input.description };
        let created = webhooks::create(ctx.pool(), actor, ctx.services().webhook_policy, new).await?;
        Ok(WebhookWithSecret::of(created))
    }

    async fn update_webhook(&self, ctx: &Context<'_>, id: ID, input: UpdateWebhookInput) -> Result<Webhook> {
        let actor = ctx.actor()?;
        let changes = WebhookChanges {
            url: input.url,
            events: input.events,
            active: input.active,
            description: input.description,
        };
        let updated =
            webhooks::update(ctx.pool(), actor, ctx.services().webhook_policy, ids::parse(&id), changes).await?;
        // Resumed: what waited may go now.
        ctx.services().webhook_wake.notify_one();
        Ok(Webhook::new(updated))
    }

    async fn rotate_webhook_secret(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookWithSecret> {
        let actor = ctx.actor()?;
        Ok(WebhookWithSecret::of(webhooks::rotate_secret(ctx.pool(), actor, ids::parse(&id)).await?))
    }

    async fn delete_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let actor = ctx.actor()?;
        Ok(webhooks::delete(ctx.pool(), actor, ids::parse(&id)).await?)
    }

    /// Queues a `webhook.ping` delivery now.
    async fn ping_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookDelivery> {
        let actor = ctx.actor()?;
        let (delivery, webhook) = webhooks::ping(ctx.pool(), actor, ids::parse(&id)).await?;
        ctx.services().webhook_wake.notify_one();
        Ok(WebhookDelivery::new(delivery, Arc::new(webhook)))
    }

    /// Queues a new attempt of a delivery (same id; attempts go on counting).
    async fn redeliver_webhook_delivery(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookDelivery> {
        let actor = ctx.actor()?;
        let (delivery, webhook) = webhooks::redeliver(ctx.pool(), actor, ids::parse(&id)).await?;
        ctx.services().webhook_wake.notify_one();
        Ok(WebhookDelivery::new(delivery, Arc::new(webhook)))
    }
}
