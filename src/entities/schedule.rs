use sea_orm::entity::prelude::*;

use super::enums::ScheduleKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub technician_id: Uuid,
    pub kind: ScheduleKind,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub note: Option<String>,
    pub job_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::job::Entity", from = "Column::JobId", to = "super::job::Column::Id")]
    Job,
}

/// Lists of entries load their jobs in the same statement.
impl Related<super::job::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Job.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

// Read by position in joined lists (`positional.rs`).
super::positional::positional!(id, technician_id, kind, starts_at, ends_at, note, job_id, created_at);
