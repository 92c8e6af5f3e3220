use sea_orm::entity::prelude::*;

use super::enums::{JobPriority, JobStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub status: JobStatus,
    pub priority: JobPriority,
    pub required_skill_level: i32,
    pub notes: Option<String>,
    pub started_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_one = "super::job_assignment::Entity")]
    Assignment,
    #[sea_orm(belongs_to = "super::customer::Entity", from = "Column::CustomerId", to = "super::customer::Column::Id")]
    Customer,
    #[sea_orm(has_one = "super::invoice::Entity")]
    Invoice,
}

/// One job's detail reads its invoice in the job's own statement.
impl Related<super::invoice::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Invoice.def()
    }
}

/// The board reads each job's customer in the page's own statement.
impl Related<super::customer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Customer.def()
    }
}

impl Related<super::job_assignment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Assignment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

// Read by position in joined lists (`positional.rs`).
super::positional::positional!(
    id,
    customer_id,
    title,
    description,
    status,
    priority,
    required_skill_level,
    notes,
    started_at,
    completed_at,
    cancelled_at,
    created_at,
    updated_at
);

super::positional::card!(
    /// What a list of jobs shows (the dispatch board, a calendar entry).
    Card {
        id: Uuid,
        customer_id: Uuid,
        title: String,
        status: JobStatus,
        priority: JobPriority,
        created_at: DateTimeUtc,
    }
);
