use sea_orm::entity::prelude::*;

use super::enums::InvoiceLineKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub position: i32,
    pub kind: InvoiceLineKind,
    pub description: String,
    pub quantity_hundredths: i64,
    pub unit_price_cents: i64,
    pub amount_cents: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// Read by position with an invoice's payments (`positional.rs`).
super::positional::positional!(
    id,
    invoice_id,
    position,
    kind,
    description,
    quantity_hundredths,
    unit_price_cents,
    amount_cents
);
