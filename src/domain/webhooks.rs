//! Webhooks, as admins manage them: register a URL for some journal events,
//! pause, rotate the secret, ping, redeliver, read the deliveries. Making
//! the attempts is the delivery worker's job (`crate::webhooks`); the rules
//! both share are in `webhook_rules`.

use sea_orm::ActiveValue::Set;
use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, ModelTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::actor::{Actor, Permission};
use super::error::{DomainError, DomainResult, Violation, violation};
use super::page::{self, Cursor, Page, PageRequest};
use super::webhook_rules::{self, PING_EVENT};
use super::{clock, validate};
use crate::entities::enums::DeliveryStatus;
use crate::entities::{webhook, webhook_delivery};
use crate::journal::change::WebhookData;
use crate::journal::{Change, EntityType};

/// Whether targets inside the server's own network are allowed
/// (`--webhook-allow-private`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TargetPolicy {
    pub allow_private: bool,
}

pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// Only the given fields change; an empty description clears it.
#[derive(Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    pub description: Option<String>,
}

/// `webhooks`: newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    request: PageRequest,
) -> DomainResult<Page<webhook::Model>> {
    actor.require(Permission::ManageWebhooks)?;
    page::fetch(db, webhook::Entity::find(), webhook::Column::CreatedAt, webhook::Column::Id, request, |w| {
        Cursor::row(w.created_at, w.id)
    })
    .await
}

/// `webhook(id)`: None when it does not exist.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> DomainResult<Option<webhook::Model>> {
    actor.require(Permission::ManageWebhooks)?;
    Ok(webhook::Entity::find_by_id(id).one(db).await?)
}

/// `createWebhook`: the answer is the only place (with a rotation) the
/// secret is shown. Deliveries start with the journal rows committed after
/// this one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    policy: TargetPolicy,
    new: NewWebhook,
) -> DomainResult<webhook::Model> {
    actor.require(Permission::ManageWebhooks)?;
    let url = webhook_rules::url(&new.url, policy.allow_private)?;
    let events = webhook_rules::events(&new.events)?;
    let description = validate::optional_text("description", new.description.as_deref(), validate::TEXT_MAX)?;
    let id = Uuid::new_v4();
    let now = clock::now();
    let data = WebhookData {
        url: url.clone(),
        events: events.clone(),
        active: true,
        description: description.clone(),
        secret_rotated: false,
    };
    let txn = super::write(db, actor).await?;
    // The webhook's own creation is its starting point: rows after it are
    // the ones "committed after the webhook was created".
    let position = txn.record(id, Change::WebhookCreated(data)).await?;
    let created = webhook::ActiveModel {
        id: Set(id),
        url: Set(url),
        events: Set(serde_json::json!(events)),
        secret: Set(webhook_rules::new_secret()),
        active: Set(true),
        description: Set(description),
        journal_position: Set(position),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*txn)
    .await?;
    txn.commit_recorded().await?;
    Ok(created)
}

/// `updateWebhook`: `active: false` pauses (deliveries wait as PENDING).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    policy: TargetPolicy,
    id: Uuid,
    changes: WebhookChanges,
) -> DomainResult<webhook::Model> {
    actor.require(Permission::ManageWebhooks)?;
    let url = changes.url.as_deref().map(|u| webhook_rules::url(u, policy.allow_private)).transpose()?;
    let events = changes.events.as_deref().map(webhook_rules::events).transpose()?;
    let description = match changes.description.as_deref() {
        Some(text) => Some(validate::optional_text("description", Some(text), validate::TEXT_MAX)?),
        None => None,
    };
    let txn = super::write(db, actor).await?;
    let existing = webhook::Entity::find_by_id(id).one(&*txn).await?.ok_or(DomainError::NotFound("webhook"))?;
    let mut model: webhook::ActiveModel = existing.into();
    if let Some(url) = url {
        model.url = Set(url);
    }
    if let Some(events) = events {
        model.events = Set(serde_json::json!(events));
    }
    if let Some(active) = changes.active {
        model.active = Set(active);
    }
    if let Some(description) = description {
        model.description = Set(description);
    }
    model.updated_at = Set(clock::now());
    let updated = model.update(&*txn).await?;
    txn.commit(updated.id, Change::WebhookUpdated(journalled(&updated, false))).await?;
    Ok(updated)
}

/// `rotateWebhookSecret`: every later attempt is signed with the new one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn rotate_secret(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> DomainResult<webhook::Model> {
    actor.require(Permission::ManageWebhooks)?;
    let txn = super::write(db, actor).await?;
    let existing = webhook::Entity::find_by_id(id).one(&*txn).await?.ok_or(DomainError::NotFound("webhook"))?;
    let mut model: webhook::ActiveModel = existing.into();
    model.secret = Set(webhook_rules::new_secret());
    model.updated_at = Set(clock::now());
    let updated = model.update(&*txn).await?;
    txn.commit(updated.id, Change::WebhookUpdated(journalled(&updated, true))).await?;
    Ok(updated)
}

/// `deleteWebhook`: the webhook goes with all its deliveries.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> DomainResult<bool> {
    actor.require(Permission::ManageWebhooks)?;
    let txn = super::write(db, actor).await?;
    let existing = webhook::Entity::find_by_id(id).one(&*txn).await?.ok_or(DomainError::NotFound("webhook"))?;
    let data = journalled(&existing, false);
    existing.delete(&*txn).await?;
    txn.commit(id, Change::WebhookDeleted(data)).await?;
    Ok(true)
}

/// `pingWebhook`: queues a `webhook.ping` delivery, due now.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn ping(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> DomainResult<(webhook_delivery::Model, webhook::Model)> {
    actor.require(Permission::ManageWebhooks)?;
    let hook = webhook::Entity::find_by_id(id).one(db).await?.ok_or(DomainError::NotFound("webhook"))?;
    let now = clock::now();
    let data = serde_json::json!({ "url": hook.url, "events": hook.events });
    let delivery = webhook_delivery::Queued {
        webhook_id: hook.id,
        journal_id: None,
        event: PING_EVENT.to_owned(),
        entity_type: EntityType::Webhook.as_str().to_owned(),
        entity_id: hook.id,
        actor_id: Some(actor.user_id),
        data: Some(data),
        occurred_at: now,
    }
    .at(now)
    .insert(db)
    .await
    .map_err(|err| match violation(&err) {
        // The webhook was deleted meanwhile.
        Some(Violation::ForeignKey) => DomainError::NotFound("webhook"),
        _ => err.into(),
    })?;
    Ok((delivery, hook))
}

/// `redeliverWebhookDelivery`: a SUCCEEDED, FAILED or DEAD delivery is
/// queued again, due now (same id; `attempts` goes on counting). A PENDING
/// one is already queued and is returned as it is.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn redeliver(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> DomainResult<(webhook_delivery::Model, webhook::Model)> {
    actor.require(Permission::ManageWebhooks)?;
    let not_found = || DomainError::NotFound("webhook delivery");
    let (delivery, hook) = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Id.eq(id))
        .find_also_related(webhook::Entity)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let hook = hook.ok_or_else(not_found)?;
    if delivery.status == DeliveryStatus::Pending {
        return Ok((delivery, hook));
    }
    let mut model: webhook_delivery::ActiveModel = delivery.into();
    model.status = Set(DeliveryStatus::Pending);
    model.next_attempt_at = Set(Some(clock::now()));
    model.delivered_at = Set(None);
    let queued = model.update(db).await.map_err(|err| match err {
        sea_orm::DbErr::RecordNotUpdated => not_found(),
        other => other.into(),
    })?;
    Ok((queued, hook))
}

/// `Webhook.deliveries`: newest first, optionally of one status.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn deliveries(
    db: &impl ConnectionTrait,
    actor: &Actor,
    webhook_id: Uuid,
    request: PageRequest,
    status: Option<DeliveryStatus>,
) -> DomainResult<Page<webhook_delivery::Model>> {
    actor.require(Permission::ManageWebhooks)?;
    let mut select = webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(webhook_id));
    if let Some(status) = status {
        select = select.filter(webhook_delivery::Column::Status.eq(status));
    }
    page::fetch(db, select, webhook_delivery::Column::CreatedAt, webhook_delivery::Column::Id, request, |d| {
        Cursor::row(d.created_at, d.id)
    })
    .await
}

/// The first page of deliveries of each of `webhook_ids` in one statement
/// (plus one grouped count when asked for), for `Webhook.deliveries` inside
/// a list of webhooks: each webhook's newest are ranked with a window
/// function. Later pages (`after`) go through `deliveries`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn first_delivery_pages(
    db: &impl ConnectionTrait,
    actor: &Actor,
    webhook_ids: &[Uuid],
    request: PageRequest,
    status: Option<DeliveryStatus>,
) -> DomainResult<HashMap<Uuid, Page<webhook_delivery::Model>>> {
    actor.require(Permission::ManageWebhooks)?;
    let of_these = || {
        let mut condition =
            Condition::all().add(webhook_delivery::Column::WebhookId.is_in(webhook_ids.iter().copied()));
        if let Some(status) = status {
            condition = condition.add(webhook_delivery::Column::Status.eq(status));
        }
        condition
    };
    let ranked = Query::select()
        .column(webhook_delivery::Column::Seq)
        .expr_as(
            Expr::cust("ROW_NUMBER() OVER (PARTITION BY webhook_id ORDER BY created_at DESC, id DESC)"),
            Alias::new("newest_rank"),
        )
        .from(webhook_delivery::Entity)
        .cond_where(of_these())
        .to_owned();
    // Newest `first + 1` per webhook: the extra row tells whether more follow.
    let page_rows = Query::select()
        .column(Alias::new("seq"))
        .from_subquery(ranked, Alias::new("ranked"))
        .and_where(Expr::col(Alias::new("newest_rank")).lte(request.first as i64 + 1))
        .to_owned();
    let rows = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Seq.in_subquery(page_rows))
        .order_by_desc(webhook_delivery::Column::CreatedAt)
        .order_by_desc(webhook_delivery::Column::Id)
        .all(db)
        .await?;
    let totals: HashMap<Uuid, i64> = if request.count_total {
        webhook_delivery::Entity::find()
            .select_only()
            .column(webhook_delivery::Column::WebhookId)
            .column_as(webhook_delivery::Column::Seq.count(), "deliveries")
            .filter(of_these())
            .group_by(webhook_delivery::Column::WebhookId)
            .into_tuple::<(Uuid, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    } else {
        HashMap::new()
    };
    let mut grouped: HashMap<Uuid, Vec<webhook_delivery::Model>> = HashMap::new();
    for row in rows {
        grouped.entry(row.webhook_id).or_default().push(row);
    }
    Ok(webhook_ids
        .iter()
        .map(|id| {
            let rows = grouped.remove(id).unwrap_or_default();
            let total = totals.get(id).map_or(0, |&n| u64::try_from(n).unwrap_or(0));
            (*id, page::assemble(rows, request, total, |d| Cursor::row(d.created_at, d.id)))
        })
        .collect())
}

fn journalled(hook: &webhook::Model, secret_rotated: bool) -> WebhookData {
    WebhookData {
        url: hook.url.clone(),
        events: hook.event_patterns(),
        active: hook.active,
        description: hook.description.clone(),
        secret_rotated,
    }
}
