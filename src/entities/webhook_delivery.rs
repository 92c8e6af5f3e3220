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

/// What a new delivery is about (a journal row, or a ping).
pub struct Queued {
    pub webhook_id: Uuid,
    pub journal_id: Option<i64>,
    pub event: String,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub data: Option<Json>,
    pub occurred_at: DateTimeUtc,
}

impl Queued {
    /// The row: PENDING, due at `now`, with a new delivery id.
    pub fn at(self, now: DateTimeUtc) -> ActiveModel {
        use sea_orm::ActiveValue::{NotSet, Set};
        ActiveModel {
            seq: NotSet,
            id: Set(Uuid::new_v4()),
            webhook_id: Set(self.webhook_id),
            journal_id: Set(self.journal_id),
            event: Set(self.event),
            entity_type: Set(self.entity_type),
            entity_id: Set(self.entity_id),
            actor_id: Set(self.actor_id),
            data: Set(self.data),
            occurred_at: Set(self.occurred_at),
            status: Set(DeliveryStatus::Pending),
            attempts: Set(0),
            last_status_code: Set(None),
            last_error: Set(None),
            next_attempt_at: Set(Some(now)),
            delivered_at: Set(None),
            lease_token: Set(None),
            lease_until: Set(None),
            created_at: Set(now),
        }
    }
}
