use sea_orm::entity::prelude::*;

use super::enums::DeliveryStatus;

/// One event for one webhook, with what its attempts gave so far. The
/// event's own fields are copied from its journal row (or made up for a
/// ping), so an attempt needs nothing else.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    /// Orders a webhook's deliveries (the journal's order).
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// The delivery id (`X-FieldForge-Delivery`).
    pub id: Uuid,
    pub webhook_id: Uuid,
    /// The journal row; none for a ping.
    pub journal_id: Option<i64>,
    pub event: String,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub data: Option<Json>,
    /// When the event happened (the journal row's time).
    pub occurred_at: DateTimeUtc,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    /// Set while an attempt is in flight in some process.
    pub lease_token: Option<Uuid>,
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::webhook::Entity", from = "Column::WebhookId", to = "super::webhook::Column::Id")]
    Webhook,
}

impl Related<super::webhook::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Webhook.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
