use sea_orm::entity::prelude::*;

/// A row of the `job_financials` view (read only). Money in cents, hours in
/// hundredths.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_financials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: Uuid,
    pub labor_hours_hundredths: i64,
    pub labor_cost_cents: i64,
    pub materials_cost_cents: i64,
    pub invoice_total_cents: Option<i64>,
    pub amount_paid_cents: i64,
    pub balance_due_cents: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
