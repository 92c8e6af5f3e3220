use sea_orm::entity::prelude::*;

use super::enums::Role;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    /// Raised by a password change or a revocation: tokens issued under an
    /// older epoch stop working.
    pub session_epoch: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_one = "super::technician::Entity")]
    Technician,
}

impl Related<super::technician::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Technician.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
