use sea_orm::entity::prelude::*;

/// A receiver of the journal's events. `secret` signs every attempt and is
/// shown to the admin only when created or rotated.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    /// The event names and patterns (`job.*`, `*`) it receives, as a JSON array.
    pub events: Json,
    pub secret: String,
    pub active: bool,
    pub description: Option<String>,
    /// Journal rows up to this id have been fanned out into deliveries.
    pub journal_position: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::webhook_delivery::Entity")]
    Deliveries,
}

impl Related<super::webhook_delivery::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deliveries.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The stored patterns (a malformed value reads as none).
    pub fn event_patterns(&self) -> Vec<String> {
        serde_json::from_value(self.events.clone()).unwrap_or_default()
    }
}
