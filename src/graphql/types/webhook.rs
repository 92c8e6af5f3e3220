use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::on_heap;
use crate::domain::cursor::Cursor;
use crate::domain::page::{Page, PageRequest};
use crate::domain::webhooks;
use crate::entities::{webhook, webhook_delivery};
use crate::graphql::connection::wants_total;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::WebhookDeliveryStatus;
use crate::graphql::ids;
use crate::graphql::loaders::{WebhookDeliveriesKey, shared};

/// A webhook. Never cached: its deliveries change without a journal entry.
#[derive(Clone)]
pub struct Webhook(pub Arc<webhook::Model>);

impl Webhook {
    pub fn new(model: webhook::Model) -> Self {
        Webhook(Arc::new(model))
    }
}

#[Object(cache_control(no_cache))]
impl Webhook {
    async fn id(&self) -> ID {
        ids::of(self.0.id)
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn events(&self) -> Vec<String> {
        self.0.event_patterns()
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Newest first, optionally of one status.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<WebhookDeliveryStatus>,
    ) -> Result<WebhookDeliveryConnection> {
        // On the heap: the page's future would size every Webhook field's.
        on_heap(async move {
            let actor = ctx.actor()?;
            let request = PageRequest::new(first, after.as_deref())?.counting(wants_total(ctx));
            let status = status.map(Into::into);
            let page = if request.after.is_none() {
                // First pages of all webhooks in a list load together.
                let key = WebhookDeliveriesKey {
                    webhook_id: self.0.id,
                    first: request.first,
                    status,
                    count_total: request.count_total,
                };
                let page = ctx.loaders().first_deliveries_by_webhook.load_one(key).await.map_err(shared)?;
                page.unwrap_or_else(|| Page::empty(request))
            } else {
                webhooks::deliveries(ctx.db(), actor, self.0.id, request, status).await?
            };
            Ok(WebhookDeliveryConnection::from_page(page, |d| WebhookDelivery::new(d, self.0.clone())))
        })
        .await
    }
}

/// One event (or ping) for one webhook, and how its attempts went.
#[derive(Clone)]
pub struct WebhookDelivery {
    delivery: webhook_delivery::Model,
    webhook: Arc<webhook::Model>,
}

impl WebhookDelivery {
    pub fn new(delivery: webhook_delivery::Model, webhook: Arc<webhook::Model>) -> Self {
        WebhookDelivery { delivery, webhook }
    }
}

#[Object(cache_control(no_cache))]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        ids::of(self.delivery.id)
    }
    async fn webhook(&self) -> Webhook {
        Webhook(self.webhook.clone())
    }
    async fn event(&self) -> &str {
        &self.delivery.event
    }
    /// The journal cursor of the event (null for a ping).
    async fn cursor(&self) -> Option<String> {
        self.delivery.journal_id.map(|id| Cursor::Journal(id).encode())
    }
    async fn status(&self) -> WebhookDeliveryStatus {
        self.delivery.status.into()
    }
    async fn attempts(&self) -> i32 {
        self.delivery.attempts
    }
    async fn last_status_code(&self) -> Option<i32> {
        self.delivery.last_status_code
    }
    async fn last_error(&self) -> Option<&str> {
        self.delivery.last_error.as_deref()
    }
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.delivery.next_attempt_at
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.delivery.delivered_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.delivery.created_at
    }
}

/// `createWebhook` and `rotateWebhookSecret`: the only answers with the secret.
#[derive(SimpleObject)]
pub struct WebhookWithSecret {
    pub webhook: Webhook,
    pub secret: String,
}

impl WebhookWithSecret {
    pub fn of(model: webhook::Model) -> Self {
        let secret = model.secret.clone();
        WebhookWithSecret { webhook: Webhook::new(model), secret }
    }
}

crate::graphql::connection::connection_types!(WebhookConnection, WebhookEdge, Webhook);
crate::graphql::connection::connection_types!(WebhookDeliveryConnection, WebhookDeliveryEdge, WebhookDelivery);
