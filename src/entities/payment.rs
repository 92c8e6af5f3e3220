use sea_orm::entity::prelude::*;

use super::enums::PaymentMethod;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub amount_cents: i64,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub idempotency_key: Option<String>,
    pub received_at: DateTimeUtc,
    pub recorded_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::invoice::Entity", from = "Column::InvoiceId", to = "super::invoice::Column::Id")]
    Invoice,
}

impl ActiveModelBehavior for ActiveModel {}

// Read by position with an invoice's lines (`positional.rs`).
super::positional::positional!(
    id,
    invoice_id,
    amount_cents,
    method,
    reference,
    idempotency_key,
    received_at,
    recorded_by
);
