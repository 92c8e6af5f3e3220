use sea_orm::entity::prelude::*;

use super::enums::InvoiceStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub job_id: Uuid,
    pub customer_id: Uuid,
    pub status: InvoiceStatus,
    pub total_cents: i64,
    pub amount_paid_cents: i64,
    pub issued_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::job::Entity", from = "Column::JobId", to = "super::job::Column::Id")]
    Job,
}

impl Related<super::job::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Job.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

// Read by position in joined lists (`positional.rs`).
super::positional::positional!(
    id,
    number,
    job_id,
    customer_id,
    status,
    total_cents,
    amount_paid_cents,
    issued_at,
    paid_at
);
