use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub job_id: Uuid,
    pub technician_id: Uuid,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// False once the job is completed: the window no longer blocks.
    pub live: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::job::Entity", from = "Column::JobId", to = "super::job::Column::Id")]
    Job,
    #[sea_orm(
        belongs_to = "super::technician::Entity",
        from = "Column::TechnicianId",
        to = "super::technician::Column::Id"
    )]
    Technician,
}

/// The board reads each assignment's technician in the page's own statement.
impl Related<super::technician::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Technician.def()
    }
}

impl Related<super::job::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Job.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

// Read by position in joined lists (`positional.rs`).
super::positional::positional!(id, job_id, technician_id, starts_at, ends_at, live, created_at);
